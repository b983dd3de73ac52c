/// One member's local file header (APPNOTE.TXT §4.3.7), as the parser hands it over.
@_spi(Internals) public struct ZipEntry: Sendable, Equatable {
    public var name: String
    public var method: UInt16
    public var flags: UInt16
    public var crc: UInt32
    public var compressedSize: UInt32
    public var size: UInt32
    /// The sizes and CRC follow the data (general purpose bit 3) instead of being in the header.
    public var hasDataDescriptor: Bool { flags & 0x0008 != 0 }
    public var isEncrypted: Bool { flags & 0x0001 != 0 }
    public var isDirectory: Bool { name.hasSuffix("/") }
    /// Sizes of 0xFFFFFFFF, or a ZIP64 extra field, mean the real sizes are 64-bit ones in the extra field.
    public var isZip64: Bool

    /// Why we cannot stream this member, or nil: the stream reads stored members only when their size is known
    /// up front, deflate ones either way (the deflate stream says where it ends).
    public var refusal: String? {
        if isEncrypted { return "ZIP member \"\(name)\" is encrypted: not supported" }
        if isZip64 { return "ZIP member \"\(name)\" uses ZIP64 (over 4 GiB): not supported" }
        switch method {
        case 8: return nil
        case 0:
            return hasDataDescriptor
                ? "ZIP member \"\(name)\" is stored with a data descriptor (its size is not known until its end): "
                    + "not supported"
                : nil
        default:
            let known: [UInt16: String] = [12: "bzip2", 14: "LZMA", 93: "Zstandard", 95: "xz", 9: "deflate64"]
            return "ZIP member \"\(name)\" uses compression method \(method)"
                + (known[method].map { " (\($0))" } ?? "") + ": not supported (supported: stored, deflate)"
        }
    }
}

/// Reads a ZIP as it streams, one local header at a time: the next record is a member (its header), or the central
/// directory that follows the last member (nothing more to read). Pure: however the input is split, the same result.
@_spi(Internals) public struct ZipLocalHeaderParser: Sendable {
    public enum Record: Sendable, Equatable {
        case member(ZipEntry)
        /// The central directory (or the end record of an empty archive): there are no more members.
        case end
    }

    private static let fixedLength = 30
    private var buffer: [UInt8] = []
    private var needed = 4

    public init() {}

    /// Takes bytes from the front of `input`; returns how many it took and the record once it is whole.
    public mutating func feed(_ input: UnsafeRawBufferPointer) throws(CompressionError) -> (
        consumed: Int, record: Record?
    ) {
        var consumed = 0
        while consumed < input.count {
            let taken = min(needed - buffer.count, input.count - consumed)
            buffer.append(contentsOf: input[consumed..<consumed + taken])
            consumed += taken
            guard buffer.count == needed else { break }
            if let record = try advance() {
                buffer = []
                needed = 4
                return (consumed, record)
            }
        }
        return (consumed, nil)
    }

    /// Bytes taken towards a record that is not whole yet.
    public var isPartial: Bool { !buffer.isEmpty }

    private mutating func advance() throws(CompressionError) -> Record? {
        if needed == 4 {
            switch Self.le32(buffer, 0) {
            case 0x0403_4b50:
                needed = Self.fixedLength
                return nil
            case 0x0201_4b50, 0x0605_4b50:
                return .end
            case 0x0606_4b50, 0x0706_4b50:
                throw CompressionError(.unsupported, "ZIP64 archives are not supported")
            default:
                throw CompressionError(.invalid, "not a ZIP member header (expected PK\\3\\4)")
            }
        }
        if needed == Self.fixedLength {
            let extra = Int(Self.le16(buffer, 28)) + Int(Self.le16(buffer, 26))
            if extra > 0 {
                needed += extra
                return nil
            }
        }
        return .member(entry())
    }

    private func entry() -> ZipEntry {
        let nameLength = Int(Self.le16(buffer, 26))
        let nameBytes = buffer[30..<30 + nameLength]
        let extra = Array(buffer[(30 + nameLength)...])
        let compressed = Self.le32(buffer, 18)
        let size = Self.le32(buffer, 22)
        return ZipEntry(
            name: String(decoding: nameBytes, as: UTF8.self), method: Self.le16(buffer, 8),
            flags: Self.le16(buffer, 6), crc: Self.le32(buffer, 14), compressedSize: compressed, size: size,
            isZip64: compressed == 0xffff_ffff || size == 0xffff_ffff || Self.hasZip64Field(extra))
    }

    /// Extra fields are (id, length, data) records; 0x0001 is ZIP64's.
    private static func hasZip64Field(_ extra: [UInt8]) -> Bool {
        var at = 0
        while at + 4 <= extra.count {
            if le16(extra, at) == 1 { return true }
            at += 4 + Int(le16(extra, at + 2))
        }
        return false
    }

    static func le16(_ bytes: [UInt8], _ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
    static func le32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
    }
}
