@_spi(Internals) import HTTP1
@_spi(Internals) import TLS

/// What a source's last publication was: enough to ask the web server "changed since?" next time, and to tell
/// whether the file on the FTP server is still that publication.
struct PublishedRecord: Equatable, Sendable {
    /// `SyncState.fingerprint` of the source as it was published: another fingerprint means publish again.
    var fingerprint: String
    var etag: String?
    var lastModified: String?
    /// The final URL, redacted as in the log.
    var url: String
    var path: String
    var bytes: UInt64
    var sha256: String
}

/// The state file's content: per source name, its last publication. Pure: parsing, writing, merging.
struct SyncState: Equatable, Sendable {
    /// Changes whenever our output rules change (the CSV transform, the gzip writer, the decoding of sources): the
    /// same config may then publish other bytes, so every fingerprint changes with it.
    static let transformVersion = 1
    static let formatVersion = 1

    var sources: [String: PublishedRecord] = [:]
    /// Per source name, its figures for the metrics file (`--metrics-file`): kept here so that a run that does not
    /// run a source can still write them. Absent from files written before metrics existed.
    var metrics: [String: SourceMetrics] = [:]

    /// What was published depends on these, and on nothing else we know of before the download. Hashed: the URL's
    /// credentials and the headers' tokens are not written down in the clear.
    static func fingerprint(
        url: HTTPURL, settings: String, targetPath: String, ftpHost: String, ftpPort: String, ftpUser: String,
        ftpTarget: String, headers: HTTPHeaders
    ) -> String {
        var headerHash = SHA256()
        for (name, value) in headers.fields { headerHash.update(Array("\(name.lowercased()):\(value)\n".utf8)) }
        let text = [
            "transform=\(transformVersion)", "url=\(url.description)", "settings=\(settings)",
            "target=\(targetPath)", "ftp=\(ftpHost):\(ftpPort)", "user=\(ftpUser)", "ftptarget=\(ftpTarget)",
            "headers=\(headerHash.hexDigest())",
        ].joined(separator: "\n")
        var sha = SHA256()
        sha.update(Array(text.utf8))
        return sha.hexDigest()
    }

    /// The state after a run: the sources that ran and were published (or found unchanged) take their new record;
    /// those that failed keep the old one (the file on the server is still the old publication); those the run did
    /// not run (`--only`) keep theirs. Sources no longer in the config are dropped. The metrics alike: those of the
    /// sources that ran are replaced, the others kept, those of sources gone from the config dropped.
    static func merged(
        _ previous: SyncState, configNames: [String], updates: [String: PublishedRecord],
        metrics: [String: SourceMetrics] = [:]
    ) -> SyncState {
        var next = SyncState()
        for name in configNames {
            if let record = updates[name] ?? previous.sources[name] { next.sources[name] = record }
            if let figures = metrics[name] ?? previous.metrics[name] { next.metrics[name] = figures }
        }
        return next
    }

    /// nil: not a state file of ours (corrupt, or another format's).
    static func parse(_ text: String) -> SyncState? {
        guard case .object(let top)? = try? JSONParser.parse(text),
            top.contains(where: { $0.key == "version" && $0.value == .number(Double(formatVersion), integer: 1) }),
            case .object(let entries)? = top.first(where: { $0.key == "sources" })?.value
        else { return nil }
        var state = SyncState()
        for (name, value) in entries {
            guard case .object(let fields) = value else { return nil }
            func text(_ key: String) -> String? {
                if case .string(let value)? = fields.first(where: { $0.key == key })?.value { value } else { nil }
            }
            guard let fingerprint = text("fingerprint"), let url = text("url"), let path = text("path"),
                let sha = text("sha256"),
                case .number(_, let bytes?)? = fields.first(where: { $0.key == "bytes" })?.value, bytes >= 0
            else { return nil }
            state.sources[name] = PublishedRecord(
                fingerprint: fingerprint, etag: text("etag"), lastModified: text("last_modified"), url: url,
                path: path, bytes: UInt64(bytes), sha256: sha)
        }
        // Metrics are for monitoring only: an entry that does not read is dropped, never a reason to republish.
        if case .object(let entries)? = top.first(where: { $0.key == "metrics" })?.value {
            for (name, value) in entries {
                if case .object(let fields) = value, let figures = SourceMetrics(json: fields) {
                    state.metrics[name] = figures
                }
            }
        }
        return state
    }

    var json: String {
        let entries = sources.sorted { $0.key < $1.key }.map { name, record in
            "\n  " + JSONWriter.string(name) + ":"
                + JSONWriter.object([
                    ("fingerprint", JSONWriter.string(record.fingerprint)),
                    ("etag", record.etag.map(JSONWriter.string) ?? "null"),
                    ("last_modified", record.lastModified.map(JSONWriter.string) ?? "null"),
                    ("url", JSONWriter.string(record.url)), ("path", JSONWriter.string(record.path)),
                    ("bytes", "\(record.bytes)"), ("sha256", JSONWriter.string(record.sha256)),
                ])
        }
        let figures = metrics.sorted { $0.key < $1.key }.map {
            "\n  " + JSONWriter.string($0.key) + ":" + $0.value.json
        }
        return "{\"version\":\(Self.formatVersion),\"sources\":{" + entries.joined(separator: ",") + "\n},\"metrics\":{"
            + figures.joined(separator: ",") + "\n}}\n"
    }
}

/// What a source with a recorded publication does once the web server and the FTP server have answered.
enum SyncDecision: Equatable, Sendable {
    /// Nothing to upload: the published file is the current one. `reason`: `not-modified` or `identical`.
    case unchanged(reason: String)
    /// After a 304 whose published file is gone or differs: download again, unconditionally.
    case downloadAgain
    /// Publish what was downloaded.
    case publish

    /// After a 304: the published file must still be there with the recorded size.
    static func afterNotModified(recorded: PublishedRecord, publishedSize: UInt64?) -> SyncDecision {
        publishedSize == recorded.bytes ? .unchanged(reason: "not-modified") : .downloadAgain
    }

    /// After a 200: identical bytes to the recorded publication, and that publication still in place.
    static func afterDownload(recorded: PublishedRecord, sha256: String, publishedSize: UInt64?) -> SyncDecision {
        sha256 == recorded.sha256 && publishedSize == recorded.bytes ? .unchanged(reason: "identical") : .publish
    }
}
