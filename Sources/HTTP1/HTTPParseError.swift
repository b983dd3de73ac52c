/// A response that does not follow HTTP/1.1, with what was wrong and where (the byte offset in the connection's
/// response stream, counted from the first byte of this response).
public struct HTTPParseError: Error, Equatable, Sendable, CustomStringConvertible {
    @_spi(Internals) public enum Kind: Equatable, Sendable {
        /// The connection ended before any byte of a response: on a reused connection, the server had closed it.
        case closedBeforeResponse
        /// The connection ended inside the head or before the body was complete.
        case truncated
        case invalidStatusLine
        case statusLineTooLong
        case headerLineTooLong
        case headerBlockTooLarge
        case tooManyHeaders
        case obsoleteLineFolding
        case invalidHeader
        case invalidContentLength
        case conflictingContentLength
        case unsupportedTransferCoding
        case invalidChunkSize
        case chunkSizeTooLarge
        case missingChunkTerminator
        case unexpectedData
        case unexpectedUpgrade
    }

    @_spi(Internals) public let kind: Kind
    public let offset: UInt64
    public let detail: String

    @_spi(Internals) public init(_ kind: Kind, at offset: UInt64, _ detail: String) {
        self.kind = kind
        self.offset = offset
        self.detail = detail
    }

    public var description: String { "\(detail) (at byte \(offset) of the response)" }
}
