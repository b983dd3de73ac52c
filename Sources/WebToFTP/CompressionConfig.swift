@_spi(Internals) import CSVStream
@_spi(Internals) import Compression

/// PARAMS and OUTPUT `compression`, read as pandas' `read_csv` and `to_csv` take it: `"infer"`, `"gzip"`, `"zip"`,
/// `{"method": …}`, `null`/`"none"`. Our extension: `{"method": "zip", "name": "member.csv"}` picks one file of
/// several. Methods pandas has and we do not decode are refused by name.
enum CompressionConfig {
    static let unsupported: Set<String> = ["bz2", "xz", "zstd", "tar"]

    /// A config problem's text.
    struct Problem: Error {
        let text: String
        init(_ text: String) { self.text = text }
    }

    /// PARAMS `compression`, or the problem's text.
    static func source(_ value: CSVParam) -> Result<CompressionSetting, Problem> {
        let method: String
        var member: String?
        switch value {
        case .null: return .success(.none)
        case .string(let text): method = text
        case .object(let fields):
            guard case .string(let text)? = fields["method"] else {
                return .failure(Problem("PARAMS.compression needs a \"method\" (gzip or zip)"))
            }
            method = text
            for (key, field) in fields where key != "method" {
                guard key == "name", text == "zip" else {
                    return .failure(
                        Problem("PARAMS.compression: unknown key \"\(key)\" (known: method, and name for zip)"))
                }
                guard case .string(let name) = field, !name.isEmpty else {
                    return .failure(Problem("PARAMS.compression.name must be the name of a file in the ZIP"))
                }
                member = name
            }
        default:
            return .failure(Problem("PARAMS.compression must be \"infer\", \"gzip\", \"zip\", an object or null"))
        }
        switch method {
        case "infer": return .success(.infer)
        case "none": return .success(.none)
        case "gzip": return .success(.method(.gzip))
        case "zip": return .success(.method(.zip(member: member)))
        case let other where unsupported.contains(other):
            return .failure(Problem("PARAMS.compression \"\(other)\" is not supported (\(CompressionRule.supported))"))
        default:
            return .failure(
                Problem(
                    "PARAMS.compression \"\(other(method))\" is unknown (\(CompressionRule.supported), infer, none)"))
        }
    }

    /// OUTPUT `compression`, or the problem's text.
    static func output(_ value: CSVParam) -> Result<CompressionSetting, Problem> {
        var method: String
        switch value {
        case .null: return .success(.none)
        case .string(let text): method = text
        case .object(let fields):
            guard case .string(let text)? = fields["method"], fields.count == 1 else {
                return .failure(Problem("OUTPUT.compression takes {\"method\": \"gzip\"} only"))
            }
            method = text
        default:
            return .failure(Problem("OUTPUT.compression must be \"gzip\", \"infer\" or null"))
        }
        switch method {
        case "infer": return .success(.infer)
        case "none": return .success(.none)
        case "gzip": return .success(.method(.gzip))
        default:
            method = other(method)
            return .failure(Problem("OUTPUT.compression \"\(method)\" is not supported (supported: gzip)"))
        }
    }

    private static func other(_ text: String) -> String { ConfigLoader.printable(text) }

    /// MAX_BYTES: a whole number of bytes > 0.
    static func maxBytes(_ value: JSONValue) -> UInt64? {
        guard case .number(_, let integer?) = value, integer > 0 else { return nil }
        return UInt64(integer)
    }
}
