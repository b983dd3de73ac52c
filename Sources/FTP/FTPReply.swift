/// One FTP reply (RFC 959 §4.2): a three-digit code and its text lines (the code and separator removed from the first
/// and last line).
@_spi(Internals) public struct FTPReply: Equatable, Sendable, CustomStringConvertible {
    public let code: Int
    public let lines: [String]

    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    /// The last line's text: what a person should read.
    public var message: String { lines.last ?? "" }

    public var isPreliminary: Bool { code >= 100 && code < 200 }
    public var isPositive: Bool { code >= 200 && code < 300 }
    public var isIntermediate: Bool { code >= 300 && code < 400 }
    public var isTransientNegative: Bool { code >= 400 && code < 500 }
    public var isPermanentNegative: Bool { code >= 500 && code < 600 }

    public var description: String { "\(code) \(message)" }
}

/// Reply codes the client acts on, by name (RFC 959 §4.2.2, RFC 2228, RFC 2428, RFC 3659).
@_spi(Internals) public enum FTPCode {
    public static let restartMarker = 110
    public static let serviceReadyInMinutes = 120
    public static let dataAlreadyOpen = 125
    public static let fileStatusOK = 150
    public static let commandOK = 200
    public static let systemStatus = 211
    public static let fileStatus = 213
    public static let serviceReady = 220
    public static let closingControl = 221
    public static let closingData = 226
    public static let enteringPassive = 227
    public static let enteringExtendedPassive = 229
    public static let loggedIn = 230
    public static let securityExchangeDone = 234
    public static let fileActionOK = 250
    public static let pathCreated = 257
    public static let needPassword = 331
    public static let needAccount = 332
    public static let pendingFurtherInformation = 350
    public static let serviceNotAvailable = 421
    public static let cannotOpenData = 425
    public static let transferAborted = 426
    public static let localError = 451
    public static let insufficientStorage = 452
    public static let syntaxError = 500
    public static let notImplemented = 502
    public static let notLoggedIn = 530
    public static let fileUnavailable = 550
    public static let exceededStorage = 552
    public static let fileNameNotAllowed = 553
}
