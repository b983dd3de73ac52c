@_spi(Internals) import FTP

/// Where a source's file goes on the FTP server: the one place its TARGET template is rendered.
struct TargetPath: Equatable {
    /// The root (FTPTARGET) plus the directories of the rendered TARGET.
    let directory: String
    let name: String

    /// `root` is FTPTARGET; "" gives the path relative to it (the config's check for two sources on one path).
    init(template: String, source: String, under root: String, at time: LocalTime) {
        let rendered = TargetTemplate.render(template, name: source, time: time)
        var parts = rendered.split(separator: "/")
        name = parts.popLast().map(String.init) ?? rendered
        directory = parts.reduce(root) { FTPPublishPlan.join($0, String($1)) }
    }

    init(_ source: SourceConfig, under root: String, at time: LocalTime) {
        self.init(template: source.target, source: source.name, under: root, at: time)
    }

    var full: String { FTPPublishPlan.join(directory, name) }
}
