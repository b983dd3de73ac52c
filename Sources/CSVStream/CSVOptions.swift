/// A value from a source's PARAMS or OUTPUT object, as the config loader hands it over (JSON's shapes).
public enum CSVParam: Equatable, Sendable {
    case string(String)
    case integer(Int)
    case number(Double)
    case bool(Bool)
    case null
    case array([CSVParam])
    /// Only `dtype` takes one (`{"column": "str"}`).
    case object([String: CSVParam])
}

/// A column named or numbered, as `usecols` and `parse_dates` take them.
public enum CSVColumn: Equatable, Hashable, Sendable {
    case index(Int)
    case name(String)
}

/// What to do with a row that has more fields than the header.
public enum BadLinePolicy: String, Sendable {
    case error
    case warn
    case skip
}

/// The transform a source asks for: pandas `read_csv` keys for reading, OUTPUT keys for writing.
public struct CSVOptions: Equatable, Sendable {
    public var separator: UInt8 = UInt8(ascii: ",")
    public var quote: UInt8 = UInt8(ascii: "\"")
    public var escape: UInt8?
    public var comment: UInt8?
    public var encoding: CSVEncoding = .utf8
    public var replaceInvalid = false
    /// The row holding the column names (after `skipRows`), or nil for none.
    public var header: Int? = 0
    public var headerGiven = false
    public var names: [String]?
    public var skipRows = 0
    public var rowLimit: Int?
    public var columns: [CSVColumn]?
    public var dateColumns: [CSVColumn] = []
    public var dayFirst = false
    public var dateFormat: String?
    public var decimal: UInt8?
    public var thousands: UInt8?
    public var skipBlankLines = true
    public var skipFooter = 0
    public var onBadLines = BadLinePolicy.error
    // OUTPUT
    public var outputSeparator: UInt8 = UInt8(ascii: ",")
    public var lineTerminator: [UInt8] = [10]
    public var byteOrderMark = false
    /// Keys that were accepted but have no effect here (`low_memory`, `engine`, `memory_map`), for the caller to warn
    /// about: the config can drop them.
    public var ignoredKeys: [String] = []
    /// `dtype` as given, when it asks for text only (for every column or per column): it asks for what is done anyway
    /// (values are copied as text), so the caller only mentions it.
    public var textDtype: String?
    /// Longest row accepted, in bytes: memory stays bounded whatever the input.
    public var maxRowBytes = 1024 * 1024

    public init() {}

    /// True when nothing asks for a change: the bytes pass through untouched.
    public var isPassthrough: Bool { !transformRequested && isDefault }
    /// The bytes are transformed even when every option keeps its default (an empty OUTPUT: quoting and line
    /// ends normalised). Options that differ from the defaults transform anyway.
    public var transformRequested = false

    public static let supportedKeys = [
        "sep", "delimiter", "quotechar", "escapechar", "comment", "encoding", "encoding_errors", "header", "names",
        "skiprows", "nrows", "usecols", "parse_dates", "dayfirst", "date_format", "decimal", "thousands",
        "skip_blank_lines", "skipfooter", "on_bad_lines", "low_memory", "engine", "memory_map", "dtype",
    ]
    public static let supportedOutputKeys = ["sep", "lineterminator", "bom"]

    /// `unknown PARAMS key 'sepp' — did you mean 'sep'?`; the whole list only when no key is close.
    static func unknownKey(_ object: String, _ key: String, _ known: [String]) -> String {
        if let hint = Spelling.hint(for: key, among: known) { return "unknown \(object) key '\(key)' — \(hint)" }
        return "unknown \(object) key '\(key)' (supported: \(known.joined(separator: ", ")))"
    }

    /// Reads PARAMS and OUTPUT. Every problem is collected, so that a config can be refused whole with all of them.
    public init(params: [String: CSVParam], output: [String: CSVParam]? = nil) throws(CSVConfigError) {
        var problems: [String] = []
        var options = CSVOptions()
        options.transformRequested = !params.isEmpty || output != nil
        func character(_ key: String, _ value: CSVParam) -> UInt8? {
            guard case .string(let text) = value, text.utf8.count == 1, let byte = text.utf8.first, byte < 0x80,
                byte != 10, byte != 13
            else {
                problems.append("\(key) must be one ASCII character (not a line break), got \(describe(value))")
                return nil
            }
            return byte
        }
        func count(_ key: String, _ value: CSVParam) -> Int? {
            guard case .integer(let number) = value, number >= 0 else {
                problems.append("\(key) must be a whole number ≥ 0, got \(describe(value))")
                return nil
            }
            return number
        }
        func columns(_ key: String, _ value: CSVParam) -> [CSVColumn]? {
            let items: [CSVParam]
            if case .array(let list) = value { items = list } else { items = [value] }
            var result: [CSVColumn] = []
            for item in items {
                switch item {
                case .integer(let index) where index >= 0: result.append(.index(index))
                case .string(let name): result.append(.name(name))
                default:
                    problems.append("\(key) takes column names or indices, got \(describe(item))")
                    return nil
                }
            }
            // pandas refuses a mix too: an index and a name cannot be told apart once names label the columns.
            let named = result.filter { if case .name = $0 { true } else { false } }.count
            if key == "usecols" && named > 0 && named < result.count {
                problems.append("\(key) must be all column names or all indices, not a mix")
                return nil
            }
            return result
        }
        func flag(_ key: String, _ value: CSVParam) -> Bool? {
            guard case .bool(let flag) = value else {
                problems.append("\(key) must be true or false, got \(describe(value))")
                return nil
            }
            return flag
        }
        for key in params.keys.sorted() {
            let value = params[key]!
            switch key {
            case "sep", "delimiter":
                if case .string("\\t") = value {
                    options.separator = 9
                } else if let byte = character(key, value) {
                    options.separator = byte
                }
            case "quotechar": if let byte = character(key, value) { options.quote = byte }
            case "escapechar": if value != .null, let byte = character(key, value) { options.escape = byte }
            case "comment": if value != .null, let byte = character(key, value) { options.comment = byte }
            case "encoding":
                if case .string(let name) = value, let encoding = CSVEncoding(pythonName: name) {
                    options.encoding = encoding
                } else {
                    let known = CSVEncoding.allCases.map(\.rawValue).joined(separator: ", ")
                    problems.append(
                        "encoding \(describe(value)) is not supported (supported: \(known) and their aliases)")
                }
            case "encoding_errors":
                switch value {
                case .string("strict"): options.replaceInvalid = false
                case .string("replace"): options.replaceInvalid = true
                default: problems.append("encoding_errors must be \"strict\" or \"replace\", got \(describe(value))")
                }
            case "header":
                options.headerGiven = true
                switch value {
                case .null: options.header = nil
                case .integer(let row) where row >= 0: options.header = row
                case .string("infer"): options.headerGiven = false
                default: problems.append("header must be a row number or null, got \(describe(value))")
                }
            case "names":
                if case .array(let items) = value, !items.isEmpty,
                    case let names = items.compactMap({ item -> String? in
                        if case .string(let s) = item { return s } else { return nil }
                    }),
                    names.count == items.count
                {
                    options.names = names
                } else {
                    problems.append("names must be a list of column names, got \(describe(value))")
                }
            case "skiprows": if let number = count(key, value) { options.skipRows = number }
            case "nrows": if value != .null, let number = count(key, value) { options.rowLimit = number }
            case "usecols": if value != .null, let list = columns(key, value) { options.columns = list }
            case "parse_dates":
                switch value {
                case .bool(false), .null: break
                case .bool(true): problems.append("parse_dates: true (the index) has no meaning here: name the columns")
                default: if let list = columns(key, value) { options.dateColumns = list }
                }
            case "dayfirst": if let flag = flag(key, value) { options.dayFirst = flag }
            case "date_format":
                if case .string(let format) = value, !format.isEmpty {
                    options.dateFormat = format
                } else {
                    problems.append("date_format must be a strftime format, got \(describe(value))")
                }
            case "decimal": if let byte = character(key, value) { options.decimal = byte }
            case "thousands": if value != .null, let byte = character(key, value) { options.thousands = byte }
            case "skip_blank_lines": if let flag = flag(key, value) { options.skipBlankLines = flag }
            case "skipfooter":
                if let number = count(key, value) {
                    options.skipFooter = number
                }
            case "on_bad_lines":
                if case .string(let text) = value, let policy = BadLinePolicy(rawValue: text) {
                    options.onBadLines = policy
                } else {
                    problems.append("on_bad_lines must be \"error\", \"warn\" or \"skip\", got \(describe(value))")
                }
            case "low_memory", "engine", "memory_map":
                options.ignoredKeys.append(key)
            case "dtype":
                let refused = Self.dtypeProblems(value)
                problems += refused
                if refused.isEmpty {
                    if case .string(let type) = value {
                        options.textDtype = type
                    } else {
                        options.textDtype = value.description
                    }
                }
            default:
                problems.append(Self.unknownKey("PARAMS", key, Self.supportedKeys))
            }
        }
        for key in (output ?? [:]).keys.sorted() {
            let value = output![key]!
            switch key {
            case "sep": if let byte = character("OUTPUT.sep", value) { options.outputSeparator = byte }
            case "lineterminator":
                if case .string(let text) = value, text == "\n" || text == "\r\n" || text == "\r" {
                    options.lineTerminator = Array(text.utf8)
                } else {
                    problems.append(
                        "OUTPUT.lineterminator must be \"\\n\", \"\\r\\n\" or \"\\r\", got \(describe(value))")
                }
            case "bom": if let flag = flag("OUTPUT.bom", value) { options.byteOrderMark = flag }
            default:
                problems.append(Self.unknownKey("OUTPUT", key, Self.supportedOutputKeys))
            }
        }
        if options.names != nil && !options.headerGiven { options.header = nil }
        problems += options.problems
        guard problems.isEmpty else { throw CSVConfigError(problems: problems) }
        self = options
    }

    /// Checks options built field by field as PARAMS are checked; every problem listed.
    public func validate() throws(CSVConfigError) {
        let problems = self.problems
        guard problems.isEmpty else { throw CSVConfigError(problems: problems) }
    }

    /// What is wrong with the values as they are (PARAMS' per-key checks have run for those read from a config, so
    /// only what they cannot see shows up twice never).
    var problems: [String] {
        var problems: [String] = []
        func character(_ key: String, _ byte: UInt8?) {
            guard let byte, byte >= 0x80 || byte == 10 || byte == 13 else { return }
            problems.append("\(key) must be one ASCII character (not a line break), got byte \(byte)")
        }
        for (key, byte) in [
            ("sep", separator), ("quotechar", quote), ("escapechar", escape), ("comment", comment),
            ("decimal", decimal), ("thousands", thousands), ("OUTPUT.sep", outputSeparator),
        ] {
            character(key, byte)
        }
        for (key, number) in [
            ("header", header), ("skiprows", skipRows), ("nrows", rowLimit), ("skipfooter", skipFooter),
        ]
        where (number ?? 0) < 0 {
            problems.append("\(key) must be a whole number ≥ 0, got \(number ?? 0)")
        }
        for (key, list) in [("usecols", columns ?? []), ("parse_dates", dateColumns)] {
            if list.contains(where: { if case .index(let index) = $0 { index < 0 } else { false } }) {
                problems.append("\(key) takes column names or indices ≥ 0")
            }
        }
        if let columns {
            // pandas refuses a mix too: an index and a name cannot be told apart once names label the columns.
            let named = columns.filter { if case .name = $0 { true } else { false } }.count
            if named > 0 && named < columns.count {
                problems.append("usecols must be all column names or all indices, not a mix")
            }
        }
        if let names {
            if names.isEmpty { problems.append("names must be a list of column names, got []") }
            if Set(names).count != names.count { problems.append("names has duplicates: \(names)") }
        }
        if dateFormat?.isEmpty == true { problems.append("date_format must be a strftime format, got \"\"") }
        if skipFooter > 10_000 {
            problems.append("skipfooter \(skipFooter) is too large (at most 10000 rows are held back)")
        }
        if ![[10], [13, 10], [13]].contains(lineTerminator) {
            problems.append("OUTPUT.lineterminator must be \"\\n\", \"\\r\\n\" or \"\\r\", got \(lineTerminator)")
        }
        if maxRowBytes <= 0 { problems.append("maxRowBytes must be > 0, got \(maxRowBytes)") }
        if decimal != nil && decimal == thousands { problems.append("decimal and thousands must differ") }
        if separator == quote { problems.append("sep and quotechar must differ") }
        return problems
    }

    /// Equal when they transform alike: the ignored keys (`engine`, `low_memory` …) are notes for the log, and
    /// whether `header` was given only matters while PARAMS are read.
    public static func == (lhs: CSVOptions, rhs: CSVOptions) -> Bool {
        lhs.separator == rhs.separator && lhs.quote == rhs.quote && lhs.escape == rhs.escape
            && lhs.comment == rhs.comment && lhs.encoding == rhs.encoding && lhs.replaceInvalid == rhs.replaceInvalid
            && lhs.header == rhs.header && lhs.names == rhs.names && lhs.skipRows == rhs.skipRows
            && lhs.rowLimit == rhs.rowLimit && lhs.columns == rhs.columns && lhs.dateColumns == rhs.dateColumns
            && lhs.dayFirst == rhs.dayFirst && lhs.dateFormat == rhs.dateFormat && lhs.decimal == rhs.decimal
            && lhs.thousands == rhs.thousands && lhs.skipBlankLines == rhs.skipBlankLines
            && lhs.skipFooter == rhs.skipFooter && lhs.onBadLines == rhs.onBadLines
            && lhs.outputSeparator == rhs.outputSeparator && lhs.lineTerminator == rhs.lineTerminator
            && lhs.byteOrderMark == rhs.byteOrderMark && lhs.textDtype == rhs.textDtype
            && lhs.maxRowBytes == rhs.maxRowBytes && lhs.transforms == rhs.transforms
    }

    /// A transform was asked for, or an option differs from its default.
    private var transforms: Bool { transformRequested || !isDefault }

    private var isDefault: Bool {
        let base = CSVOptions()
        return separator == base.separator && quote == base.quote && escape == nil && comment == nil
            && encoding == base.encoding && !replaceInvalid && header == base.header && names == nil
            && skipRows == 0 && rowLimit == nil && columns == nil && dateColumns.isEmpty && !dayFirst
            && dateFormat == nil && decimal == nil && thousands == nil && skipBlankLines && skipFooter == 0
            && onBadLines == .error && outputSeparator == base.outputSeparator && lineTerminator == [10]
            && !byteOrderMark && textDtype == nil && maxRowBytes == base.maxRowBytes
    }

    /// `dtype` is accepted when it asks for text only, for all columns or per column: values are copied as text and
    /// never re-typed, so any other type would be a promise not kept.
    static func dtypeProblems(_ value: CSVParam) -> [String] {
        func isText(_ value: CSVParam) -> Bool {
            if case .string(let type) = value { return ["str", "object", "string"].contains(type) }
            return false
        }
        let why = "only str, object or string is supported: values are copied as text, never re-typed"
        switch value {
        case .object(let columns):
            return columns.keys.sorted().filter { !isText(columns[$0]!) }.map {
                "dtype for column '\($0)' is \(describe(columns[$0]!)): \(why)"
            }
        case .array(let items) where !items.isEmpty && items.allSatisfy(isText):
            return []  // not pandas', but accepted before: a config that worked keeps working
        default:
            return isText(value) ? [] : ["dtype \(describe(value)) is not supported: \(why)"]
        }
    }
}

/// PARAMS written in Swift as in JSON: `["sep": ";", "usecols": ["id", "name"], "skiprows": 1, "dayfirst": true]`.
extension CSVParam: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByNilLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(arrayLiteral elements: CSVParam...) { self = .array(elements) }

    /// A later duplicate key wins, as in JSON.
    public init(dictionaryLiteral elements: (String, CSVParam)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { $1 }))
    }
}

extension CSVParam: CustomStringConvertible {
    /// As JSON would write it (for messages).
    public var description: String { describe(self) }
}

func describe(_ value: CSVParam) -> String {
    switch value {
    case .string(let text): return "\"\(text)\""
    case .integer(let number): return "\(number)"
    case .number(let number): return "\(number)"
    case .bool(let flag): return "\(flag)"
    case .null: return "null"
    case .array(let items): return "[" + items.map(describe).joined(separator: ", ") + "]"
    case .object(let members):
        return "{" + members.keys.sorted().map { "\"\($0)\": " + describe(members[$0]!) }.joined(separator: ", ") + "}"
    }
}

/// PARAMS or OUTPUT that cannot be honoured, every problem listed.
public struct CSVConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public let problems: [String]
    public var description: String { problems.joined(separator: "; ") }
}
