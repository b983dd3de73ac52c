/// What the publish and listing machines offer their drivers alike: a first step, then actions for each event, the
/// answer to a command sent coming back as `.reply`.
protocol FTPDataMachine {
    associatedtype Event: FTPReplyEvent
    associatedtype Action: FTPPassiveActions
    mutating func start() -> [Action]
    mutating func handle(_ event: Event) -> [Action]
}

/// An event enum with a `reply` case, which satisfies the requirement.
protocol FTPReplyEvent {
    static func reply(_ reply: FTPReply) -> Self
}

/// The upload and the listing: thin drivers that feed their machine the control channel's replies and their data
/// channel's events. Driving the machine, sending its commands and opening its data channel are done here alike;
/// each driver does the rest of the actions (`perform`).
protocol FTPMachineDriver: FTPDataChannelDelegate {
    associatedtype Machine: FTPDataMachine
    var machine: Machine { get set }
    var control: FTPControlChannel { get }
    var connector: FTPDataConnector { get }
    var data: FTPDataChannel? { get set }
    func perform(_ action: Machine.Action)
}

extension FTPMachineDriver {
    func start() {
        for action in machine.start() { perform(action) }
    }

    func step(_ event: Machine.Event) {
        for action in machine.handle(event) { perform(action) }
    }

    /// Sends `command`; its reply goes to the machine.
    func send(_ command: FTPCommand) {
        control.send(command) { [weak self] reply in self?.step(.reply(reply)) }
    }

    /// Connects the data channel to the passive `port`, this driver hearing it.
    func openData(port: Int, announcedHost: String?, fullRecords: Bool) {
        let channel = connector.channel(fullRecords: fullRecords, delegate: self)
        data = channel
        channel.open(port: port, announcedHost: announcedHost)
    }
}
