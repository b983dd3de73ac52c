import Foundation
@_spi(Internals) import TestSupport
import Testing
@_spi(Internals) import WebToFTP

/// contrib/kubernetes/web2ftp.yaml, read with Python's YAML parser (python3-yaml, installed by scripts/install-deps.sh;
/// without it the test fails): the CronJob of Indexed Jobs that runs one shard per pod, and what makes it safe.
@Suite("The Kubernetes CronJob in contrib/kubernetes: Indexed shards, non-root, read-only root, state on a volume")
struct KubernetesManifestTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let manifest = root.appendingPathComponent("contrib/kubernetes/web2ftp.yaml").path
    static let imageScript = root.appendingPathComponent("scripts/image.sh").path

    typealias Object = [String: Any]

    /// The manifest's documents, as Python's yaml.safe_load_all reads them, through JSON.
    static func documents() throws -> [Object] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            "import json, sys, yaml; json.dump([d for d in yaml.safe_load_all(open(sys.argv[1])) if d], sys.stdout)",
            manifest,
        ]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let json = out.fileHandleForReading.readDataToEndOfFile()
        let error = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestFailure("python3 yaml (python3-yaml) could not read \(manifest): \(error)")
        }
        guard let documents = try JSONSerialization.jsonObject(with: json) as? [Object] else {
            throw TestFailure("\(manifest): not a list of YAML mappings")
        }
        return documents
    }

    /// The value at a dotted path of mappings.
    static func value(_ object: Any?, _ path: String) -> Any? {
        path.split(separator: ".").reduce(object) { ($0 as? Object)?[String($1)] }
    }

    /// A Kubernetes quantity in bytes (Ki, Mi, Gi) or CPUs (m).
    static func quantity(_ value: Any?) -> Double? {
        if let number = value as? Double { return number }
        guard let text = value as? String else { return nil }
        let units: [(String, Double)] = [("Ki", 1024), ("Mi", 1_048_576), ("Gi", 1_073_741_824), ("m", 0.001)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            return Double(text.dropLast(suffix.count)).map { $0 * scale }
        }
        return Double(text)
    }

    /// The user in the image's /etc/passwd, as scripts/image.sh writes it (`uid=N`).
    static func imageUID() throws -> Int? {
        let script = try String(contentsOfFile: imageScript, encoding: .utf8)
        let line = script.split(separator: "\n").first { $0.hasPrefix("uid=") }
        return line.flatMap { Int($0.dropFirst("uid=".count)) }
    }

    /// Everything the manifest must hold, as sentences naming what is wrong; empty when it is right.
    static func problems(_ documents: [Object], imageUID: Int?) -> [String] {
        var problems: [String] = []
        func want(_ ok: Bool, _ problem: @autoclosure () -> String) { if !ok { problems.append(problem()) } }
        guard let cron = documents.first(where: { $0["kind"] as? String == "CronJob" }) else {
            return ["no CronJob"]
        }
        want(cron["apiVersion"] as? String == "batch/v1", "CronJob apiVersion is not batch/v1")
        want(value(cron, "spec.schedule") as? String == "23 22 * * *", "the schedule is not 22:23 daily")
        let zone = value(cron, "spec.timeZone") as? String
        want(zone?.isEmpty == false, "the CronJob has no timeZone")
        want(value(cron, "spec.concurrencyPolicy") as? String == "Forbid", "concurrencyPolicy is not Forbid")
        let job = value(cron, "spec.jobTemplate.spec")
        want(value(job, "completionMode") as? String == "Indexed", "the Job is not completionMode: Indexed")
        let completions = value(job, "completions") as? Int
        want(completions.map { $0 >= 1 } == true, "the Job has no completions")
        want(value(job, "parallelism") as? Int == completions, "parallelism is not completions (N pods at once)")
        want(value(job, "backoffLimitPerIndex") is Int, "the Job has no backoffLimitPerIndex")

        let pod = value(job, "template.spec")
        want(value(pod, "restartPolicy") as? String == "Never", "restartPolicy is not Never (backoffLimitPerIndex)")
        let grace = value(pod, "terminationGracePeriodSeconds") as? Int
        want(grace.map { $0 > 10 } == true, "terminationGracePeriodSeconds is not above the 10 s clean-up")
        want(value(pod, "securityContext.runAsNonRoot") as? Bool == true, "runAsNonRoot is not true")
        let uid = value(pod, "securityContext.runAsUser") as? Int
        want(uid != nil && uid == imageUID, "runAsUser \(uid.map(String.init) ?? "unset") is not the image's user")
        let volumes = Dictionary(
            ((value(pod, "volumes") as? [Object]) ?? []).compactMap { volume in
                (volume["name"] as? String).map { ($0, volume) }
            }, uniquingKeysWith: { first, _ in first })

        guard let containers = value(pod, "containers") as? [Object], containers.count == 1,
            let container = containers.first
        else { return problems + ["the pod has not one container"] }
        let args = (container["args"] as? [String]) ?? []
        func argument(_ option: String) -> String? {
            args.firstIndex(of: option).flatMap { args.index(after: $0) < args.endIndex ? args[$0 + 1] : nil }
        }
        want(args.prefix(1) == ["manual"], "the container does not run `manual`")
        want(argument("--shard") == completions.map { "auto/\($0)" }, "--shard is not auto/N with N = completions")
        want(argument("--log") == "-", "the container does not log to stderr only (--log -)")
        want(value(container, "securityContext.readOnlyRootFilesystem") as? Bool == true, "the root is not read-only")
        want(
            value(container, "securityContext.allowPrivilegeEscalation") as? Bool == false,
            "allowPrivilegeEscalation is not false")

        let env = (container["env"] as? [Object]) ?? []
        func variable(_ name: String) -> Object? { env.first { $0["name"] as? String == name } }
        want(variable("TZ")?["value"] as? String == zone, "TZ is not the CronJob's timeZone")
        for name in ["FTPHOST", "FTPUSER", "FTPPASS", "FTPTARGET"] {
            want(
                value(variable(name), "valueFrom.secretKeyRef.name") is String
                    && value(variable(name), "valueFrom.secretKeyRef.key") as? String == name,
                "\(name) does not come from a Secret")
        }

        // Where a path is mounted from: the mount whose path is it or holds it, and its volume.
        let mounts = (container["volumeMounts"] as? [Object]) ?? []
        func mount(holding path: String?) -> (mount: Object, volume: Object?)? {
            guard let path else { return nil }
            let found = mounts.filter { mount in
                guard let at = mount["mountPath"] as? String else { return false }
                return path == at || path.hasPrefix(at.hasSuffix("/") ? at : at + "/")
            }.max { ($0["mountPath"] as? String ?? "").count < ($1["mountPath"] as? String ?? "").count }
            return found.map { mount in (mount: mount, volume: (mount["name"] as? String).flatMap { volumes[$0] }) }
        }
        let config = mount(holding: argument("--config"))
        want(config?.volume?["configMap"] != nil, "--config is not on a ConfigMap volume")
        want(
            config?.mount["subPath"] != nil && config?.mount["mountPath"] as? String == argument("--config"),
            "the config is not mounted as a file (subPath): the state file is named by its resolved path")
        let statePath = argument("--state") ?? variable("XDG_STATE_HOME")?["value"] as? String
        let state = mount(holding: statePath)
        let claim = value(state?.volume, "persistentVolumeClaim.claimName") as? String
        want(claim != nil, "the state (--state or XDG_STATE_HOME) is not on a PersistentVolumeClaim")
        if let claim {
            let pvc = documents.first {
                $0["kind"] as? String == "PersistentVolumeClaim" && value($0, "metadata.name") as? String == claim
            }
            want(
                (value(pvc, "spec.accessModes") as? [String])?.contains("ReadWriteMany") == true,
                "the state claim \(claim) is not in the file with ReadWriteMany (N pods, maybe N nodes)")
        }
        let runtime = mount(holding: variable("XDG_RUNTIME_DIR")?["value"] as? String)
        want(runtime?.volume?["emptyDir"] != nil, "XDG_RUNTIME_DIR is not on an emptyDir")

        // Measured: peak RSS 21.5 MiB with four transfers at once; 15 ms of CPU per small file.
        let requests = value(container, "resources.requests")
        let limits = value(container, "resources.limits")
        let memory = quantity(value(requests, "memory"))
        want(memory.map { $0 >= 24 * 1_048_576 } == true, "the memory request is below the measured peak RSS")
        want(
            quantity(value(limits, "memory")).map { $0 >= memory ?? .infinity } == true,
            "the memory limit is missing or below the request")
        let cpu = quantity(value(requests, "cpu"))
        want(cpu.map { $0 > 0 } == true, "no CPU request")
        want(quantity(value(limits, "cpu")).map { $0 >= cpu ?? .infinity } == true, "the CPU limit is missing or low")
        return problems
    }

    @Test("the CronJob holds everything a sharded, non-root, read-only run needs")
    func manifestIsComplete() throws {
        let documents = try Self.documents()
        let uid = try Self.imageUID()
        #expect(uid == 10001)
        let problems = Self.problems(documents, imageUID: uid)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    @Test("a manifest that lost one of them is caught")
    func catchesMistakes() throws {
        let documents = try Self.documents()
        let uid = try Self.imageUID()
        func edited(_ path: [String], _ value: Any?) -> [Object] {
            func set(_ object: Any?, _ path: ArraySlice<String>) -> Any? {
                guard let key = path.first else { return value }
                if var list = object as? [Object], let index = Int(key) {
                    list[index] = set(list[index], path.dropFirst()) as? Object ?? [:]
                    return list
                }
                var mapping = object as? Object ?? [:]
                mapping[key] = set(mapping[key], path.dropFirst())
                return mapping
            }
            return documents.map { $0["kind"] as? String == "CronJob" ? set($0, path[...]) as? Object ?? $0 : $0 }
        }
        let pod = ["spec", "jobTemplate", "spec", "template", "spec"]
        let container = pod + ["containers", "0"]
        let cases: [([String], Any?, String)] = [
            (["spec", "jobTemplate", "spec", "parallelism"], 3, "parallelism is not completions (N pods at once)"),
            (["spec", "jobTemplate", "spec", "completions"], 8, "--shard is not auto/N with N = completions"),
            (["spec", "timeZone"], "UTC", "TZ is not the CronJob's timeZone"),
            (["spec", "concurrencyPolicy"], "Allow", "concurrencyPolicy is not Forbid"),
            (
                pod + ["terminationGracePeriodSeconds"], 10,
                "terminationGracePeriodSeconds is not above the 10 s clean-up"
            ),
            (pod + ["securityContext", "runAsUser"], 0, "runAsUser 0 is not the image's user"),
            (container + ["securityContext", "readOnlyRootFilesystem"], false, "the root is not read-only"),
            (
                container + ["volumeMounts", "0", "subPath"], nil,
                "the config is not mounted as a file (subPath): the state file is named by its resolved path"
            ),
            (
                container + ["resources", "requests", "memory"], "16Mi",
                "the memory request is below the measured peak RSS"
            ),
            (
                pod + ["volumes", "1"], ["name": "state", "emptyDir": Object()] as Object,
                "the state (--state or XDG_STATE_HOME) is not on a PersistentVolumeClaim"
            ),
        ]
        for (path, value, problem) in cases {
            #expect(
                Self.problems(edited(path, value), imageUID: uid).contains(problem),
                "\(path) = \(String(describing: value))")
        }
        #expect(Self.problems(documents, imageUID: 65534).contains("runAsUser 10001 is not the image's user"))
    }

    @Test("why the config is mounted with subPath: the state file follows the config's resolved path")
    func stateFollowsResolvedConfigPath() throws {
        // A ConfigMap volume as kubelet lays it out: config.json → ..data/config.json, ..data → a directory named by
        // the time it was written, new for every pod.
        let volume = FileManager.default.temporaryDirectory.appendingPathComponent("w2f-configmap-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: volume) }
        let manager = FileManager.default
        for day in ["..2026_12_01_22_23_00.1", "..2026_12_02_22_23_00.2"] {
            try manager.createDirectory(atPath: "\(volume)/\(day)", withIntermediateDirectories: true)
            try Data("{}".utf8).write(to: URL(fileURLWithPath: "\(volume)/\(day)/config.json"))
        }
        try manager.createSymbolicLink(atPath: "\(volume)/..data", withDestinationPath: "..2026_12_01_22_23_00.1")
        try manager.createSymbolicLink(atPath: "\(volume)/config.json", withDestinationPath: "..data/config.json")
        let first = SyncStateFile.defaultPath(forConfig: "\(volume)/config.json")
        try manager.removeItem(atPath: "\(volume)/..data")
        try manager.createSymbolicLink(atPath: "\(volume)/..data", withDestinationPath: "..2026_12_02_22_23_00.2")
        let next = SyncStateFile.defaultPath(forConfig: "\(volume)/config.json")
        #expect(first != nil && next != nil)
        #expect(first != next, "the same config path, another resolved path: another state file")
    }
}
