@_spi(Internals) import Reactor

/// The login: a thin driver of an `FTPLoginMachine` over the session's control channel, from the TCP connect (and for
/// implicit FTPS the TLS handshake) to TYPE I. It is the channel's operation until logged in or failed.
final class FTPLogin: FTPControlChannelUser {
    private let session: FTPSession
    private var machine: FTPLoginMachine
    private var completion: FTPSession.ConnectCompletion?

    init(session: FTPSession, completion: @escaping FTPSession.ConnectCompletion) {
        self.session = session
        self.completion = completion
        let configuration = session.configuration
        machine = FTPLoginMachine(
            user: configuration.user, password: configuration.password, security: configuration.security)
    }

    private var control: FTPControlChannel { session.control }
    private var configuration: FTPSession.Configuration { session.configuration }

    func start() {
        control.begin(self)
        control.connect(port: configuration.effectivePort, connectTimeoutMS: configuration.connectTimeoutMS) {
            if self.configuration.security == .implicitTLS {
                self.startTLS { self.awaitBanner() }
            } else {
                self.awaitBanner()
            }
        }
    }

    private func awaitBanner() {
        control.awaitReply("(connect)") { [weak self] in self?.step(.reply($0)) }
    }

    private func startTLS(then: @escaping () -> Void) {
        control.startTLS(
            context: session.context, handshakeTimeoutMS: configuration.connectTimeoutMS, then: then)
    }

    private func step(_ event: FTPLoginMachine.Event) {
        for action in machine.handle(event) {
            switch action {
            case .send(let command):
                control.send(command) { [weak self] in self?.step(.reply($0)) }
            case .startTLS:
                startTLS { [weak self] in self?.step(.tlsEstablished) }
            case .loggedIn(let features):
                session.features = features
                finish(.success(session))
            case .failed(let summary):
                finish(.failure(summary.error))
            }
        }
    }

    func controlChannel(didFail error: FTPError) {
        finish(.failure(error))
    }

    private func finish(_ result: Result<FTPSession, FTPError>) {
        guard let completion else { return }
        self.completion = nil
        control.end(self)
        if case .failure(let error) = result { control.fail(error) }
        completion(result)
    }
}
