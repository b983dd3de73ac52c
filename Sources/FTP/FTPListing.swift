/// One NLST: a thin driver that feeds an `FTPListMachine` the control channel's replies and its data channel's
/// events, and collects the listing (capped: a directory of our own uploads is small).
final class FTPListing: FTPControlChannelUser, FTPMachineDriver {
    let control: FTPControlChannel
    let connector: FTPDataConnector
    /// The listing's data must keep coming (see `FTPDataChannel.watchForSilence`).
    private let idleTimeoutMS: Int
    var machine: FTPListMachine
    private var completion: ((Result<[String], FTPError>) -> Void)?
    var data: FTPDataChannel?
    private var received: [UInt8] = []
    private static let maximum = 16 * 1024 * 1024

    init(
        directory: String, control: FTPControlChannel, connector: FTPDataConnector, idleTimeoutMS: Int,
        completion: @escaping (Result<[String], FTPError>) -> Void
    ) {
        self.control = control
        self.connector = connector
        self.idleTimeoutMS = idleTimeoutMS
        self.completion = completion
        machine = FTPListMachine(directory: directory, host: control.host, tryEPSV: !connector.epsvRefused)
    }

    func perform(_ action: FTPListMachine.Action) {
        switch action {
        case .send(let command): send(command)
        case .openData(let port, let announced): openData(port: port, announcedHost: announced, fullRecords: false)
        case .epsvRefused: connector.epsvRefused = true
        case .listed(let names): finish(.success(names))
        case .failed(let error): finish(.failure(error))
        }
    }

    // MARK: the data channel

    func dataChannelDidConnect(_ channel: FTPDataChannel) {
        step(.dataConnected)
    }

    func dataChannelIsReady(_ channel: FTPDataChannel) {
        channel.watchForSilence(idleMS: idleTimeoutMS)
    }

    func dataChannel(_ channel: FTPDataChannel, didRead bytes: UnsafeRawBufferPointer) {
        channel.watchForSilence(idleMS: idleTimeoutMS)
        received.append(contentsOf: bytes)
        if received.count > Self.maximum {
            step(.dataFailed("the listing is larger than \(Self.maximum) bytes"))
        }
    }

    func dataChannelDidBecomeWritable(_ channel: FTPDataChannel) {}

    func dataChannel(_ channel: FTPDataChannel, didEnd end: FTPDataEnd) {
        channel.closeAfterPeerEnded()
        data = nil
        // The 226 is still to come: from now on the reply timeout runs again.
        control.rearmReplyTimeout()
        if case .failed(let reason, let withoutCloseNotify) = end, !withoutCloseNotify {
            return step(.dataFailed(reason))
        }
        // A TLS close without close_notify is tolerated here: the 226 that must follow vouches for the listing.
        step(.dataFinished(String(decoding: received, as: UTF8.self)))
    }

    // MARK: ending

    func controlChannel(didFail error: FTPError) {
        finish(.failure(error))
    }

    private func finish(_ result: Result<[String], FTPError>) {
        guard let completion else { return }
        self.completion = nil
        data?.close()
        data = nil
        control.end(self)
        completion(result)
    }
}
