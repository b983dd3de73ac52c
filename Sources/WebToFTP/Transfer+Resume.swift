@_spi(Internals) import CSVStream
@_spi(Internals) import FTP
@_spi(Internals) import HTTP1
@_spi(Internals) import Reactor
@_spi(Internals) import TLS

/// Resuming (#18): an attempt that goes on from a previous attempt's kept temporary upload.
extension Transfer {
    /// A previous attempt left its temporary file: the FTP server says how much of it it holds, and the web server is
    /// asked for the rest from the largest checkpoint at or below that.
    func startResumed(_ point: ResumePoint) {
        // The bytes are published whatever they are: the state file's check needs a whole download.
        prior = nil
        resumedPlan = point.plan
        withSession(dataConnections: 2) { transfer, session in
            session.size(of: point.temporaryPath) { [weak transfer] size in
                guard let transfer, !transfer.finished else { return }
                let offset = ResumeRule.startOffset(
                    serverResumes: ResumeRule.serverResumes(session.features), temporarySize: size,
                    checkpoints: point.digest.offsets)
                guard offset > 0 else {
                    transfer.dropResume(
                        "the server holds \(size.map { "\($0) bytes" } ?? "no size") of \(point.temporaryPath),"
                            + " below the first checkpoint, or does not resume uploads")
                    return transfer.requestWhole()
                }
                transfer.requestRange(from: offset, point)
            }
        }
    }

    func requestRange(from offset: UInt64, _ point: ResumePoint) {
        rangeFrom = offset
        var headers = source.headers
        for (name, value) in ResumeRule.requestHeaders(from: offset, validator: point.validator) {
            headers.remove(name)
            headers.add(name, value)
        }
        task = client.request(
            source.url, headers: headers, idleTimeoutMS: source.idleTimeoutSeconds.map { Int($0 * 1000) },
            decodes: SourceCoding.decodes, delegate: self)
    }

    enum Resumed { case proceed, stop }

    /// The answer to the ranged request: a 206 of the same representation goes on at `from`; a whole body (200) is
    /// published from zero; anything else is asked for again, whole. Either way within this attempt.
    func resumeAnswered(_ head: HTTPResponseHead, from: UInt64, _ point: ResumePoint) -> Resumed {
        rangeFrom = nil
        var answer = ResumeRule.answer(
            status: head.status, headers: head.headers, offset: from, validator: point.validator,
            total: point.total)
        if case .continueFrom = answer, coding?.passesBytesUnchanged != true {
            answer = .refetch(reason: "the range came content-coded")
        }
        switch answer {
        case .continueFrom(let offset):
            resumedAt = offset
            resumeValidator = point.validator
            representationLength = point.total
            do {
                // MAX_BYTES counts the whole file, the bytes before the offset too.
                coding = try SourceCoding(
                    source: source, head: head, target: path.name, transforms: transformer != nil, resumedAt: offset)
            } catch {
                fail(error)
                return .stop
            }
            return .proceed
        case .restart(let reason):
            dropResume(reason)
            resumeValidator = ResumeRule.validator(
                status: head.status, headers: head.headers, transforms: transformer != nil,
                bytesPassUnchanged: coding?.passesBytesUnchanged ?? false)
            representationLength = expectedBytes
            return .proceed
        case .refetch(let reason):
            dropResume(reason)
            restartDownload()
            return .stop
        }
    }

    /// This attempt goes on from zero: the previous attempt's temporary file is deleted before the upload.
    func dropResume(_ reason: String) {
        if let point = kept { staleTemporary = point.temporaryPath }
        kept = nil
        onWarning?("resume", "\(reason): from zero")
    }

    /// Drops the response under way and asks for the whole body again, from zero.
    func restartDownload() {
        // The cancel reports at once, and is no failure of this attempt.
        droppingTask = true
        task?.cancel()
        droppingTask = false
        coding = nil
        expectedBytes = nil
        requestWhole()
    }
}
