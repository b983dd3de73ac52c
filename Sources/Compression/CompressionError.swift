/// Why a compressed body could not be decoded. `kind` tells a retry policy what to do: a stream that stops before its
/// end (a missing gzip trailer, a CRC that does not match what arrived) is a truncation, worth another attempt;
/// everything else is in the bytes themselves and comes back the same.
@_spi(Internals) public struct CompressionError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The stream ended early, or what arrived does not match its checksum.
        case truncated
        /// Not the format it claims to be, or damaged.
        case invalid
        /// A valid file using what we do not decode (ZIP64, encryption, another method).
        case unsupported
        /// A ZIP whose members are not what the config asks for (none, several, or not the named one).
        case member
        /// More decoded bytes than the source allows (MAX_BYTES).
        case limit
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var isTruncation: Bool { kind == .truncated }
    public var description: String { message }
}
