/// What a source's bytes are compressed with, as far as we decode them.
public enum CompressionMethod: Sendable, Equatable {
    case gzip
    /// A ZIP archive: its only file, or the member named.
    case zip(member: String?)

    public var name: String {
        switch self {
        case .gzip: return "gzip"
        case .zip: return "zip"
        }
    }
}

/// PARAMS `compression`, as pandas' `read_csv` takes it: `"infer"` (the default), a method, or none.
public enum CompressionSetting: Sendable, Equatable {
    case infer
    case none
    case method(CompressionMethod)
}

/// The rules that decide, before and after the first bytes arrive, whether a body is decompressed. Pure.
@_spi(Internals) public enum CompressionRule {
    public static let supported = "supported: gzip, zip"

    /// pandas' `extension_to_compression`, in its order (`.tar.gz` is a tar before it is a gzip).
    static let extensions: [(suffix: String, method: String)] = [
        (".tar", "tar"), (".tar.gz", "tar"), (".tar.bz2", "tar"), (".tar.xz", "tar"), (".gz", "gzip"),
        (".bz2", "bz2"), (".zip", "zip"), (".xz", "xz"), (".zst", "zstd"),
    ]

    /// The method pandas would infer from a path's suffix (case-insensitive), or nil.
    public static func method(forSuffixOf path: String) -> String? {
        let lower = path.lowercased()
        return extensions.first { lower.hasSuffix($0.suffix) }?.method
    }

    /// What to expect of the body of `urlPath` under `setting`: nil when it is taken as it is. Throws a config
    /// problem's text for methods we do not decode (named, or inferred from the suffix).
    public static func expected(_ setting: CompressionSetting, urlPath: String) throws(CompressionError)
        -> (method: CompressionMethod, inferred: Bool)?
    {
        switch setting {
        case .none: return nil
        case .method(let method): return (method, false)
        case .infer:
            switch method(forSuffixOf: urlPath) {
            case nil: return nil
            case "gzip": return (.gzip, true)
            case "zip": return (.zip(member: nil), true)
            case let other?:
                throw CompressionError(
                    .unsupported,
                    "compression \"\(other)\" (inferred from the URL's suffix) is not supported (\(supported)); "
                        + "\"compression\": null takes the bytes as they are")
            }
        }
    }

    /// Whether `prefix` (the body's first bytes) starts as `method` does: nil while too few bytes have come to say.
    /// A ZIP starts with a member (PK 3 4) or, empty, with the end record (PK 5 6).
    public static func magicMatches(_ method: CompressionMethod, prefix: [UInt8]) -> Bool? {
        let magic: [[UInt8]] =
            switch method {
            case .gzip: [[0x1f, 0x8b]]
            case .zip: [[0x50, 0x4b, 3, 4], [0x50, 0x4b, 5, 6]]
            }
        let length = magic[0].count
        if prefix.count < length {
            // Too short to be sure, unless it already differs from every magic.
            let matchesSoFar = magic.contains { Array($0.prefix(prefix.count)) == prefix }
            return matchesSoFar ? nil : false
        }
        return magic.contains { Array(prefix.prefix(length)) == $0 }
    }

    /// Whether the published file is gzip-compressed: OUTPUT `compression` when given (`"gzip"` or none), else
    /// inferred from the rendered TARGET's suffix, as pandas' `to_csv` infers it from the path.
    public static func outputIsGzip(_ setting: CompressionSetting, target: String) throws(CompressionError) -> Bool {
        switch setting {
        case .none: return false
        case .method(.gzip): return true
        case .method(let other):
            throw CompressionError(
                .unsupported, "OUTPUT compression \"\(other.name)\" is not supported (supported: gzip)")
        case .infer:
            switch method(forSuffixOf: target) {
            case nil: return false
            case "gzip": return true
            case let other?:
                throw CompressionError(
                    .unsupported,
                    "TARGET \"\(target)\" asks for \(other) output, which is not supported (supported: gzip); "
                        + "set OUTPUT \"compression\": null to publish the bytes uncompressed under that name")
            }
        }
    }
}
