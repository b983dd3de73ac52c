@_spi(Internals) import CSVStream
@_spi(Internals) import FTP
@_spi(Internals) import HTTP1
@_spi(Internals) import Reactor
@_spi(Internals) import TLS

/// One attempt at one source: HTTP body → CSV transform (or none) → FTP upload, with backpressure both ways.
/// The upload starts only once the response head is accepted (a 404 creates nothing on the server); a failure on
/// either side stops the other, and the upload's temporary file is removed.
final class Transfer: HTTPResponseDelegate, FTPUploadDelegate {
    let source: SourceConfig
    let path: (directory: String, name: String)
    let client: HTTPClient
    /// A session from the pool, for this many data connections.
    private let acquireSession: (Int, @escaping (Result<FTPSession, FTPError>) -> Void) -> Void
    private let releaseSession: (FTPSession) -> Void
    private let completion: (Result<TransferResult, TransferFailure>) -> Void
    var task: HTTPTask?
    private var session: FTPSession?
    private var upload: FTPUpload?
    let transformer: CSVTransformer?
    private var output: [UInt8] = []
    private var downloadDone = false
    var finished = false
    private var bytesIn: UInt64 = 0
    private var bytesOut: UInt64 = 0
    /// SHA-256 of the bytes sent, inline or on the digest thread (`DigestMode`): the same digest either way. Its
    /// state every 8 MiB is kept, for a resume.
    private var digest = CheckpointedDigest()
    /// Plain FTP with nothing transformed: the digest thread hashes the very buffer the send reads (no copy), while
    /// the send runs. Otherwise a copy goes to the thread, and the loop does not wait for the hash at all: the
    /// memcpy is small next to the transform's or TLS's own passes over the bytes.
    private var hashAlongsideSend = false
    private var summary: HTTPResponseSummary?
    /// The body size the server announced (Content-Length), for progress percentages.
    var expectedBytes: UInt64?
    private(set) var bytesReceived: UInt64 = 0
    let started = MonotonicClock.monotonicNanoseconds()
    /// Set when the attempt failed while an upload was open: reported once the upload has removed its file.
    private var failure: TransferFailure?
    /// Hears the transform's warnings (bad rows skipped, a date column that never parses) as they arise, not at the
    /// end: a long upload that is going wrong says so while it runs, and a failed attempt says it too.
    var onCSVWarning: ((String) -> Void)?
    private var warningsReported = 0
    /// Hears other warnings as `(event, detail)`: a `.gz` URL whose body is not gzip.
    var onWarning: ((String, String) -> Void)?
    /// Decoding (content coding, the file's compression) and the output's gzip: `SourceCoding`, made with the head.
    var coding: SourceCoding?
    /// The body ended while decoded bytes still waited for the upload: finish when it is writable.
    private var finishWaiting = false
    /// The source's last publication, when the state file has one for what this source now is: the request is
    /// conditional, and a download of the same bytes is not published again.
    var prior: PublishedRecord?
    /// The web server answered 304 to the conditional request.
    private var notModified = false
    private var validators: (etag: String?, lastModified: String?) = (nil, nil)
    /// The published file's size on the server before this upload (nil: not there, or not asked).
    private var publishedSize: UInt64?
    /// The upload is being dropped: its bytes are those already published.
    private var identical = false
    private var sha256: String?
    /// The resume point a previous attempt left, until this attempt uses it or drops it; after a failure, the one
    /// this attempt leaves for the next (its temporary file kept). The pipeline reads it when the attempt ends.
    var kept: ResumePoint?
    /// The plan of the previous attempt's temporary file: this attempt publishes through it, resumed or from zero.
    var resumedPlan: FTPPublishPlan?
    /// The ranged request in flight asks for the body from this offset.
    var rangeFrom: UInt64?
    /// Where this attempt's upload goes on in the file (REST): the bytes neither downloaded nor uploaded again.
    var resumedAt: UInt64 = 0
    /// The previous attempt's temporary file, to delete before this attempt stores from zero.
    var staleTemporary: String?
    /// The response may be resumed should the attempt fail part-way, with this validator (`ResumeRule.validator`).
    var resumeValidator: ResumeValidator?
    /// The whole body's length as a 200 announced it (a 206's Content-Length is only the rest): a later resume's
    /// range must end there.
    var representationLength: UInt64?
    /// A response is being dropped for another request in this attempt: its cancellation is not a failure.
    var droppingTask = false

    init(
        source: SourceConfig, directory: String, name: String, client: HTTPClient, prior: PublishedRecord? = nil,
        resume: ResumePoint? = nil,
        acquireSession: @escaping (Int, @escaping (Result<FTPSession, FTPError>) -> Void) -> Void,
        releaseSession: @escaping (FTPSession) -> Void,
        completion: @escaping (Result<TransferResult, TransferFailure>) -> Void
    ) {
        self.source = source
        path = (directory, name)
        self.client = client
        self.acquireSession = acquireSession
        self.releaseSession = releaseSession
        self.completion = completion
        self.prior = prior
        kept = resume
        transformer = source.csv.isPassthrough ? nil : CSVTransformer(options: source.csv)
        output.reserveCapacity(256 * 1024)
    }

    func start() {
        if let kept { return startResumed(kept) }
        requestWhole()
    }

    /// The whole body: a plain GET, conditional when the state file has a publication of this source.
    func requestWhole() {
        rangeFrom = nil
        var headers = source.headers
        let conditional = prior.map { $0.etag != nil || $0.lastModified != nil } ?? false
        if let prior, conditional {
            if let etag = prior.etag { headers.add("If-None-Match", etag) }
            if let date = prior.lastModified { headers.add("If-Modified-Since", date) }
        }
        task = client.request(
            source.url, headers: headers, idleTimeoutMS: source.idleTimeoutSeconds.map { Int($0 * 1000) },
            decodes: SourceCoding.decodes, acceptsNotModified: conditional, delegate: self)
    }

    private var publishedPath: String { FTPPublishPlan.join(path.directory, path.name) }

    /// The 304's check: the published file still there with the recorded size means nothing to do; otherwise the
    /// source is downloaded again, unconditionally, and published.
    private func checkNotModified(_ prior: PublishedRecord) {
        let release = releaseSession
        acquireSession(1) { [weak self] result in
            guard let self, !self.finished else {
                if case .success(let session) = result { release(session) }
                return
            }
            guard case .success(let session) = result else {
                if case .failure(let error) = result { self.fail(Self.classify(error)) }
                return
            }
            session.size(of: self.publishedPath) { [weak self] size in
                release(session)
                guard let self, !self.finished else { return }
                switch SyncDecision.afterNotModified(recorded: prior, publishedSize: size) {
                case .unchanged(let reason):
                    self.finished = true
                    self.completion(.success(self.unchangedResult(prior, reason: reason)))
                case .downloadAgain, .publish:
                    self.onWarning?(
                        "republish",
                        "\(self.publishedPath) is gone or differs (size \(size.map { "\($0)" } ?? "none"),"
                            + " recorded \(prior.bytes)): downloading again")
                    self.prior = nil
                    self.notModified = false
                    self.requestWhole()
                }
            }
        }
    }

    private func unchangedResult(_ prior: PublishedRecord, reason: String) -> TransferResult {
        var result = TransferResult(
            path: prior.path, bytesIn: bytesIn, bytesOut: bytesOut,
            csv: reason == "identical" ? transformer?.counters : nil,
            finalURL: summary?.finalURL ?? prior.url, status: summary?.status ?? 304, httpTLS: summary?.tlsVersion,
            ftpDataResumed: nil, sha256: prior.sha256, warnings: [])
        result.unchanged = reason
        result.recordedBytes = prior.bytes
        result.etag = validators.etag ?? prior.etag
        result.lastModified = validators.lastModified ?? prior.lastModified
        return result
    }

    /// Stops the attempt (a signal, the run ending): the upload's temporary file is removed.
    func cancel(_ reason: String) {
        fail(TransferFailure(reason: reason, transient: false, retryAfter: nil))
    }

    /// The clean-up after a cancel is taking too long (a server that does not answer the DELE): drop the FTP
    /// connection, which ends the upload at once.
    func forceClose() {
        session?.close()
    }

    // MARK: HTTP

    func task(_ task: HTTPTask, didReceiveHead head: HTTPResponseHead) {
        validators = (head.headers["ETag"], head.headers["Last-Modified"])
        if head.status == 304 {
            // No body: the check of the published file waits for the end of the response (the connection reused).
            notModified = true
            return
        }
        let type = head.headers["Content-Type"]?.lowercased() ?? ""
        if type.hasPrefix("text/html") {
            // An error page published as data is the classic silent failure.
            return fail(
                TransferFailure(
                    reason: "\(source.url.redacted) answered \(head.status) with text/html: not CSV", transient: false,
                    retryAfter: nil))
        }
        if head.headers["Transfer-Encoding"] == nil, let length = head.headers["Content-Length"].flatMap(UInt64.init) {
            expectedBytes = length
        }
        do {
            coding = try SourceCoding(source: source, head: head, target: path.name, transforms: transformer != nil)
        } catch {
            return fail(error)
        }
        if let from = rangeFrom, let point = kept {
            guard case .proceed = resumeAnswered(head, from: from, point) else { return }
        } else {
            resumeValidator = ResumeRule.validator(
                status: head.status, headers: head.headers, transforms: transformer != nil,
                bytesPassUnchanged: coding?.passesBytesUnchanged ?? false)
            representationLength = expectedBytes
        }
        // The server refused to resume the upload, and the whole body was asked for again: it goes to the upload
        // already waiting for it.
        if upload != nil { return }
        task.pause()
        withSession { transfer, session in
            guard let stale = transfer.staleTemporary else { return transfer.sessionReady(session) }
            // Deleted first: a server that refuses to overwrite (proftpd without AllowOverwrite) would refuse the STOR.
            // Forgotten only once its DELE is answered: an attempt failing meanwhile still hands it to the clean-up.
            session.deleteFiles([stale]) { [weak transfer] _ in
                guard let transfer, !transfer.finished else { return }
                transfer.staleTemporary = nil
                transfer.sessionReady(session)
            }
        }
    }

    /// The attempt's FTP session: the one it holds, or a login from the pool. A failed login fails the attempt.
    /// `body` gets the transfer, so that a login ending after the attempt is gone holds nothing.
    /// `dataConnections`: a resumed upload whose REST the server refuses at the STOR needs a second one.
    func withSession(dataConnections: Int = 1, _ body: @escaping (Transfer, FTPSession) -> Void) {
        if let session { return body(self, session) }
        // Held strongly: the attempt may have failed and be gone by the time the login ends, and the session must
        // still go back to the pool (it leaked, found by the fault matrix's descriptor count in parallel mode).
        let release = releaseSession
        acquireSession(dataConnections) { [weak self] result in
            guard let self, !self.finished else {
                if case .success(let session) = result { release(session) }
                return
            }
            switch result {
            case .failure(let error):
                self.fail(Self.classify(error))
            case .success(let session):
                self.session = session
                self.hashAlongsideSend = self.transformer == nil && session.configuration.security == .none
                body(self, session)
            }
        }
    }

    private func sessionReady(_ session: FTPSession) {
        guard let prior else { return beginUpload(session) }
        session.size(of: publishedPath) { [weak self] size in
            guard let self, !self.finished else { return }
            self.publishedSize = size
            // Unused when the size does not match: the bytes are published whatever they are.
            if size != prior.bytes { self.prior = nil }
            self.beginUpload(session)
        }
    }

    private func beginUpload(_ session: FTPSession) {
        var plan =
            resumedPlan
            ?? FTPPublishPlan.make(
                directory: path.directory, finalName: path.name, host: SystemInfo.hostName,
                processID: Int(SystemInfo.processID), unixTime: MonotonicClock.unixSeconds(),
                checkSize: session.features.has("SIZE"),
                createDirectories: !session.knownDirectories.contains(path.directory))
        plan.checkSize = session.features.has("SIZE")
        if resumedAt > 0, let point = kept {
            // The upload owns the temporary file from now on: a failure deletes it, unless it is kept again.
            kept = nil
            digest = CheckpointedDigest(resumingFrom: point.digest.checkpoint(atOrBelow: resumedAt))
            bytesOut = resumedAt
        }
        upload = session.upload(plan: plan, restartAt: resumedAt > 0 ? resumedAt : nil, delegate: self)
    }

    func task(_ task: HTTPTask, didReceive bytes: UnsafeRawBufferPointer) {
        guard !finished, let upload, let coding else { return }
        bytesIn += UInt64(bytes.count)
        bytesReceived = bytesIn
        do {
            try coding.push(bytes) { self.deliver($0, to: upload) }
        } catch {
            return fail(error)
        }
        reportCodingWarning()
        if coding.isHolding || !upload.isWritable { task.pause() }
    }

    /// Bytes in the file's own form (decoded) on their way to the upload; says whether more may come now.
    private func deliver(_ bytes: UnsafeRawBufferPointer, to upload: FTPUpload) -> Bool {
        guard !finished else { return false }
        if let transformer {
            output.removeAll(keepingCapacity: true)
            do {
                defer { reportWarnings() }
                try transformer.push(bytes, into: &output)
            } catch {
                // fail() stops the download itself, after recording this reason (a cancel first would mask it).
                fail(TransferFailure(reason: "CSV: \(error.message)", transient: false, retryAfter: nil))
                return false
            }
            send(output, to: upload)
        } else {
            send(bytes, to: upload)
        }
        return !finished && upload.isWritable
    }

    private var codingWarned = false

    private func reportCodingWarning() {
        guard !codingWarned, let warning = coding?.mismatchWarning else { return }
        codingWarned = true
        onWarning?("compression", warning)
    }

    func task(_ task: HTTPTask, didFinish result: Result<HTTPResponseSummary, HTTPError>) {
        guard !finished, !droppingTask else { return }
        switch result {
        case .failure(let error):
            // Cut part-way, a resumable body keeps its upload for the next attempt.
            fail(Self.classify(error), keepsUpload: true)
        case .success(let summary):
            self.summary = summary
            if notModified, let prior { return checkNotModified(prior) }
            downloadDone = true
            guard let upload else {
                // The body ended before the upload was ready (an empty body): finish when it is.
                return
            }
            finishUpload(upload)
        }
    }

    private func finishUpload(_ upload: FTPUpload) {
        if let coding {
            do {
                finishWaiting = !(try coding.finish { self.deliver($0, to: upload) })
            } catch {
                return fail(error)
            }
            reportCodingWarning()
            if finishWaiting || finished { return }
        }
        if let transformer {
            output.removeAll(keepingCapacity: true)
            do {
                defer { reportWarnings() }
                try transformer.finish(into: &output)
            } catch {
                return fail(TransferFailure(reason: "CSV: \(error.message)", transient: false, retryAfter: nil))
            }
            send(output, to: upload)
        }
        coding?.finishOutput { write($0, to: upload) }
        if let prior {
            let sha = digest.hexDigest()
            sha256 = sha
            if case .unchanged = SyncDecision.afterDownload(recorded: prior, sha256: sha, publishedSize: publishedSize)
            {
                // The same bytes as the file in place: drop the temporary upload, leave the published file alone.
                identical = true
                return upload.abort("identical to the published file")
            }
        }
        upload.finishWriting()
    }

    private func reportWarnings() {
        guard let warnings = transformer?.warnings, warnings.count > warningsReported else { return }
        for warning in warnings[warningsReported...] { onCSVWarning?(warning) }
        warningsReported = warnings.count
    }

    private func send(_ bytes: [UInt8], to upload: FTPUpload) {
        bytes.withUnsafeBytes { send($0, to: upload) }
    }

    private func send(_ bytes: UnsafeRawBufferPointer, to upload: FTPUpload) {
        guard !bytes.isEmpty else { return }
        guard let coding else { return write(bytes, to: upload) }
        coding.output(bytes) { write($0, to: upload) }
    }

    /// The published file's bytes: what the digest and the SIZE check count.
    private func write(_ bytes: UnsafeRawBufferPointer, to upload: FTPUpload) {
        guard !bytes.isEmpty else { return }
        bytesOut += UInt64(bytes.count)
        if hashAlongsideSend {
            digest.update(bytes) { upload.write(bytes) }
        } else {
            digest.update(bytes)
            upload.write(bytes)
        }
    }

    // MARK: FTP

    func uploadCanBegin(_ upload: FTPUpload) {
        if resumedAt > 0, let refusal = upload.restartRefused {
            // The server stores the file from zero (it deleted what it had): the download starts over too.
            onWarning?("resume", "\(refusal): from zero")
            resumedAt = 0
            bytesOut = 0
            digest = CheckpointedDigest()
            downloadDone = false
            return restartDownload()
        }
        if downloadDone { return finishUpload(upload) }
        task?.resume()
    }

    func uploadDidBecomeWritable(_ upload: FTPUpload) {
        if let coding, coding.isHolding {
            do {
                try coding.resume { self.deliver($0, to: upload) }
            } catch {
                return fail(error)
            }
            if finished || coding.isHolding || !upload.isWritable { return }
        }
        if finishWaiting {
            finishWaiting = false
            return finishUpload(upload)
        }
        if !downloadDone { task?.resume() }
    }

    func upload(_ upload: FTPUpload, didFinish result: Result<FTPPublishResult, FTPError>) {
        if let session {
            if case .success = result, failure == nil {
                session.knownDirectories.insert(upload.plan.directory)
            } else {
                session.knownDirectories.remove(upload.plan.directory)
            }
            releaseSession(session)
        }
        session = nil
        self.upload = nil
        let orphan = upload.temporaryMayRemain ? upload.plan.path(upload.plan.temporaryName) : nil
        if var failure {
            // The upload was aborted and has cleaned up (or tried to): now the attempt may report. A kept file is
            // the resume point's, not an orphan.
            self.failure = nil
            failure.orphan = kept == nil ? orphan : nil
            return completion(.failure(failure))
        }
        guard !finished else { return }
        if identical, let prior {
            finished = true
            var result = unchangedResult(prior, reason: "identical")
            result.orphan = orphan
            return completion(.success(result))
        }
        switch result {
        case .failure(let error):
            // fail() records this reason before it stops the download: cancelling first would report "cancelled"
            // (permanent) instead, and a retryable FTP failure would not be retried (found by the fault matrix).
            var failure = Self.classify(error)
            // The session skipped the MKDs (it had published there before): a STOR refused as 550/553 may mean the
            // directory was removed since. Retried — with the MKDs, as the session forgot the directory above.
            if case .reply(let command, let code, _) = error, command.hasPrefix("STOR"), code == 550 || code == 553,
                upload.plan.directoriesToCreate.isEmpty, !FTPPublishPlan.levels(of: upload.plan.directory).isEmpty
            {
                failure = TransferFailure(
                    reason: failure.reason + " (the directory may be gone: the retry creates it)", transient: true,
                    retryAfter: nil)
            }
            failure.orphan = orphan
            fail(failure)
        case .success(let published):
            finished = true
            var warnings: [String] = []
            if let leftover = published.leftoverBackup { warnings.append("could not delete the backup \(leftover)") }
            completion(
                .success(
                    TransferResult(
                        path: published.path, bytesIn: bytesIn, bytesOut: bytesOut, csv: transformer?.counters,
                        finalURL: summary?.finalURL ?? source.url.redacted, status: summary?.status ?? 0,
                        httpTLS: summary?.tlsVersion, ftpDataResumed: upload.dataSessionResumed,
                        sha256: sha256 ?? digest.hexDigest(), warnings: warnings, etag: validators.etag,
                        lastModified: validators.lastModified, resumedBytes: resumedAt > 0 ? resumedAt : nil)))
        }
    }

    // MARK: failure

    /// `keepsUpload`: the body was cut part-way; when the response may be resumed (see `ResumeRule.keepsUpload`),
    /// the temporary file stays for the next attempt.
    func fail(_ failure: TransferFailure, keepsUpload: Bool = false) {
        guard !finished else { return }
        finished = true
        var failure = failure
        failure.bytesIn = bytesIn
        task?.cancel()
        if let upload {
            // The upload reports back once it has deleted its temporary file (or kept it); the attempt ends then, so
            // that a run that stops right after leaves nothing behind.
            self.failure = failure
            if keepsUpload, let session, let validator = resumeValidator,
                ResumeRule.keepsUpload(
                    transient: failure.transient, validator: validator,
                    serverResumes: ResumeRule.serverResumes(session.features),
                    largestCheckpoint: digest.offsets.last ?? 0)
            {
                kept = ResumePoint(
                    validator: validator, plan: upload.plan, digest: digest, total: representationLength)
                upload.suspend(failure.reason)
            } else {
                upload.abort(failure.reason)
            }
            return
        }
        // A previous attempt's file this attempt meant to replace, not deleted yet.
        if let stale = staleTemporary { failure.orphan = stale }
        if let session {
            releaseSession(session)
            self.session = nil
        }
        completion(.failure(failure))
    }

    static func classify(_ error: HTTPError) -> TransferFailure {
        var retryAfter: Int64?
        if case .status(_, _, _, let seconds) = error { retryAfter = seconds }
        return TransferFailure(reason: "\(error)", transient: error.isTransient, retryAfter: retryAfter)
    }

    static func classify(_ error: FTPError) -> TransferFailure {
        TransferFailure(reason: "\(error)", transient: error.isTransient, retryAfter: nil)
    }
}
