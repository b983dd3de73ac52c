@_spi(Internals) import FTP
@_spi(Internals) import TLS

/// What an attempt cut short part-way leaves the next one (#18 part 3): its temporary file on the server (kept, not
/// deleted), the validator the bytes came with, and the SHA-256 states at the checkpoints it passed. The pipeline
/// carries it to the retry, and deletes the file itself when no retry comes. Loop-thread only.
final class ResumePoint {
    let validator: ResumeValidator
    /// The plan whose temporary name holds the bytes; the next attempt publishes through it.
    let plan: FTPPublishPlan
    let digest: CheckpointedDigest
    /// The body's length as the first response announced it (Content-Length), when it did: a resumed range must end
    /// there.
    let total: UInt64?

    init(validator: ResumeValidator, plan: FTPPublishPlan, digest: CheckpointedDigest, total: UInt64?) {
        self.validator = validator
        self.plan = plan
        self.digest = digest
        self.total = total
    }

    var temporaryPath: String { plan.path(plan.temporaryName) }

    /// Where the next attempt expects to go on: the last checkpoint passed (a lower one when the server holds fewer
    /// bytes than were sent).
    var expectedOffset: UInt64 { digest.offsets.last ?? 0 }
}

extension ResumeRule {
    /// Whether a failed attempt keeps its temporary upload for the next one instead of deleting it: the failure is
    /// transient (a retry may come), the response was resumable (`validator`, see `validator(status:…)`), the FTP
    /// server appends at an offset (REST STREAM and SIZE), and a checkpoint past the file's start was passed — from
    /// zero, keeping it would save nothing.
    static func keepsUpload(
        transient: Bool, validator: ResumeValidator?, serverResumes: Bool, largestCheckpoint: UInt64
    ) -> Bool {
        transient && validator != nil && serverResumes && largestCheckpoint > 0
    }

    /// The FTP side of a resume: the server says it resumes streams (FEAT `REST STREAM`) and offers SIZE.
    static func serverResumes(_ features: FTPFeatures) -> Bool {
        features.restartsStreams && features.has("SIZE")
    }
}
