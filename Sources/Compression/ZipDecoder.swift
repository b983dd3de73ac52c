/// A ZIP archive read front to back as it streams (no seeking to the central directory): each local header, then
/// the member's data, stored or deflated. The member wanted — the only file, or the one named — is decoded; the others
/// are skipped. Its CRC-32 and size are checked at its end. Directories do not count as members.
final class ZipDecoder: ByteDecoder {
    private enum State {
        case header(ZipLocalHeaderParser)
        case stored(remaining: UInt32, wanted: Bool)
        case deflated(wanted: Bool)
        /// A data descriptor after a deflated member: its optional signature, CRC-32 and two sizes.
        case descriptor([UInt8])
        /// The central directory, or the bytes after the member named: nothing more to decode.
        case done
    }

    private let wantedName: String?
    private var state = State.header(ZipLocalHeaderParser())
    private var entry: ZipEntry?
    private var inflater: Inflater?
    private var crc: UInt32 = 0
    private var size: UInt64 = 0
    private var decodedOne = false
    private var seen: [String] = []
    private var started = false
    private let scratch: UnsafeMutableRawBufferPointer

    init(member: String?) {
        wantedName = member
        scratch = .allocate(byteCount: 16 * 1024, alignment: 8)
    }

    deinit { scratch.deallocate() }

    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(CompressionError)
        -> (consumed: Int, produced: Int)
    {
        var read = 0
        var written = 0
        while true {
            switch state {
            case .header(var parser):
                guard read < input.count else { return (read, written) }
                let (used, record) = try parser.feed(input.from(read))
                read += used
                state = .header(parser)
                if let record { try begin(record) }
            case .stored(let remaining, let wanted):
                if remaining == 0 {
                    try endMember()
                    continue
                }
                let target = wanted ? output.from(written) : scratch
                let count = min(Int(remaining), input.count - read, target.count)
                guard count > 0 else { return (read, written) }
                target.baseAddress!.copyMemory(from: input.baseAddress! + read, byteCount: count)
                account(UnsafeRawBufferPointer(rebasing: target[0..<count]))
                read += count
                if wanted { written += count }
                state = .stored(remaining: remaining - UInt32(count), wanted: wanted)
            case .deflated(let wanted):
                let target = wanted ? output.from(written) : scratch
                guard !target.isEmpty else { return (read, written) }
                let (used, made, ended) = try inflater!.inflate(input.from(read), into: target)
                account(UnsafeRawBufferPointer(rebasing: target[0..<made]))
                read += used
                if wanted { written += made }
                if ended {
                    if entry!.hasDataDescriptor {
                        state = .descriptor([])
                    } else {
                        try endMember()
                    }
                } else if used == 0 && made == 0 {
                    return (read, written)
                }
            case .descriptor(var bytes):
                guard read < input.count else { return (read, written) }
                bytes.append(input[read])
                read += 1
                // 12 bytes, or 16 when it starts with its (optional) signature.
                let signed = bytes.count >= 4 && ZipLocalHeaderParser.le32(bytes, 0) == 0x0807_4b50
                guard bytes.count == (signed ? 16 : 12) else {
                    state = .descriptor(bytes)
                    continue
                }
                let at = signed ? 4 : 0
                entry!.crc = ZipLocalHeaderParser.le32(bytes, at)
                entry!.size = ZipLocalHeaderParser.le32(bytes, at + 8)
                try endMember()
            case .done:
                return (input.count, written)
            }
        }
    }

    private func begin(_ record: ZipLocalHeaderParser.Record) throws(CompressionError) {
        guard case .member(let member) = record else {
            state = .done
            return
        }
        let wanted: Bool
        if member.isDirectory {
            wanted = false
        } else {
            seen.append(member.name)
            if let wantedName {
                wanted = member.name == wantedName
            } else {
                guard !decodedOne else {
                    throw CompressionError(
                        .member,
                        "the ZIP holds more than one file (\(seen.map { "\"\($0)\"" }.joined(separator: ", ")) …): "
                            + "name one with \"compression\": {\"method\": \"zip\", \"name\": …}")
                }
                wanted = true
            }
        }
        if wanted, let refusal = member.refusal { throw CompressionError(.unsupported, refusal) }
        entry = member
        crc = 0
        size = 0
        started = true
        if wanted { decodedOne = true }
        if member.method == 8 && !member.isEncrypted {
            if inflater == nil { inflater = Inflater(.raw) } else { inflater!.reset() }
            state = .deflated(wanted: wanted)
        } else if member.isDirectory && member.method == 0 {
            // A directory has no data, whatever its flags say (zip tools writing to a pipe give it a descriptor).
            state = member.hasDataDescriptor ? .descriptor([]) : .stored(remaining: 0, wanted: false)
        } else if !member.hasDataDescriptor && !member.isZip64 {
            // Wanted, it is stored; skipped, its bytes are passed over whatever they are.
            state = .stored(remaining: member.compressedSize, wanted: wanted)
        } else {
            throw CompressionError(
                .unsupported,
                "cannot skip over ZIP member \"\(member.name)\": \(member.refusal ?? "its size is unknown")")
        }
    }

    private func account(_ bytes: UnsafeRawBufferPointer) {
        crc = Inflater.crc32(crc, bytes)
        size += UInt64(bytes.count)
    }

    private func endMember() throws(CompressionError) {
        guard let entry else { return }
        let wanted = !entry.isDirectory && (wantedName == nil || entry.name == wantedName)
        guard !wanted || (entry.crc == crc && UInt64(entry.size) == size) else {
            throw CompressionError(
                .truncated, "ZIP member \"\(entry.name)\": CRC-32 or size does not match its header (damaged)")
        }
        self.entry = nil
        state = wanted && wantedName != nil ? .done : .header(ZipLocalHeaderParser())
    }

    func finish() throws(CompressionError) {
        switch state {
        case .done:
            break
        case .header(let parser):
            if parser.isPartial {
                throw CompressionError(.truncated, "the ZIP ends inside a member header (truncated)")
            }
            if !started { throw CompressionError(.invalid, "not a ZIP (the body is empty)") }
            throw CompressionError(.truncated, "the ZIP ends before its central directory (truncated)")
        default:
            throw CompressionError(.truncated, "the ZIP ends inside a member (truncated)")
        }
        guard decodedOne else {
            guard let wantedName else { throw CompressionError(.member, "the ZIP holds no file") }
            let names = seen.map { "\"\($0)\"" }.joined(separator: ", ")
            throw CompressionError(
                .member, "the ZIP has no file named \"\(wantedName)\" (it holds \(names.isEmpty ? "none" : names))")
        }
    }
}
