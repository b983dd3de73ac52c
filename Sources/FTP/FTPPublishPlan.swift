/// Where and under which names one upload is published.
public struct FTPPublishPlan: Equatable, Sendable {
    /// The target directory as the server names it: absolute (`/srv/in`), relative to the login directory
    /// (`in/daily`), or empty for the login directory itself.
    public var directory: String
    /// Directory levels to create first (MKD each; "exists" is fine), outermost first.
    public var directoriesToCreate: [String]
    public var finalName: String
    public var temporaryName: String
    public var backupName: String
    /// Compare SIZE of the uploaded file with the bytes sent (when the server offers SIZE).
    public var checkSize: Bool
    /// Try EPSV first (PASV after a 5xx to it, see `FTPPassiveStep`). False: PASV only. A session on which EPSV was
    /// refused starts with PASV whatever this says.
    public var tryEPSV: Bool

    public init(
        directory: String, finalName: String, temporaryName: String, backupName: String, checkSize: Bool,
        tryEPSV: Bool = true, createDirectories: Bool = true
    ) {
        self.directory = directory
        self.finalName = finalName
        self.temporaryName = temporaryName
        self.backupName = backupName
        self.checkSize = checkSize
        self.tryEPSV = tryEPSV
        directoriesToCreate = createDirectories ? Self.levels(of: directory) : []
    }

    @_spi(Internals) public func path(_ name: String) -> String { Self.join(directory, name) }

    /// `directory/name` as the server names it (no separator doubled; an empty directory is the login directory).
    @_spi(Internals) public static func join(_ directory: String, _ name: String) -> String {
        if directory.isEmpty { return name }
        return directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// `/a/b` → [`/a`, `/a/b`]; `a/b` → [`a`, `a/b`]; `` and `/` → [].
    @_spi(Internals) public static func levels(of directory: String) -> [String] {
        let absolute = directory.hasPrefix("/")
        var levels: [String] = []
        var current = absolute ? "" : nil as String?
        for part in directory.split(separator: "/") where part != "." {
            current = current.map { "\($0)/\(part)" } ?? String(part)
            levels.append(current!)
        }
        return levels
    }
}

/// What a published upload looked like.
public struct FTPPublishResult: Equatable, Sendable {
    public var path: String
    public var bytes: UInt64
    /// The size the server reported, when it was asked.
    public var verifiedSize: UInt64?
    /// True when the server would not rename over the old file and the swap through a backup name was used.
    public var swapped: Bool
    /// The backup that could not be deleted after a swap, if any (the new file is in place all the same).
    public var leftoverBackup: String?
}
