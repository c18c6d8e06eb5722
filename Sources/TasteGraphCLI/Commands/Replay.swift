import ArgumentParser
import Foundation
import TasteGraphServing
import TasteGraphStore

/// `tastegraph replay`: online evaluation, offline — held-out listens driven through the real HTTP API.
struct Replay: ContextCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay held-out listens through a server's HTTP API under an experiment, and report each arm's listened share.",
        discussion: """
            Each replayed user asks for recommendations (GET /v1/users/{id}/recommendations, the exposure), then \
            that user's held-out listens arrive as live events (POST /v1/listens), round by round: listens with \
            times in time order, one round per UTC day; listens without times shuffled per user with --seed and \
            cut into --rounds simulated days. The experiment's report (GET /v1/experiments/{name}) is printed \
            at the end.

            Without --server, the replay starts its own tastegraph-server (beside this binary) on 127.0.0.1, on a \
            copy of --store from which the held-out listens are withheld; --store itself is only read, and the \
            copy is deleted afterwards unless --keep-store names a new file for it. With --server, it drives \
            that server (write routes need --token-file) and the listens must not be in its store already.
            """
    )

    @OptionGroup var store: StoreOption
    @Option(name: .long, help: ArgumentHelp("Experiment file (JSON; see the README, \"Experiments\").", valueName: "file")) var experiment: String
    @Option(name: .long, help: ArgumentHelp("Held-out listens: user<TAB>item<TAB>plays[<TAB>time], ids as in the store (a header line is skipped).", valueName: "file"))
    var listens: String
    @Option(name: .long, help: ArgumentHelp("The server's default model (default: the first model an arm names).", valueName: "file")) var model: String?
    @Option(name: .long, help: ArgumentHelp("Drive this running server (http://HOST:PORT) instead of starting one.", valueName: "url")) var server: String?
    @Option(name: .long, help: ArgumentHelp("With --server: file whose first line is its bearer token.", valueName: "file")) var tokenFile: String?
    @Option(name: .long, help: "Simulated days for listens without times.") var rounds = 5
    @Option(name: .long, help: "Seed of the per-user order of untimed listens and of the exposure times.") var seed: UInt64 = 0
    @Option(name: [.customShort("k"), .long], help: "Recommendations per request.") var count = 20
    @Option(name: .long, help: "Connections driving the server at once.") var connections = 4
    @Option(name: .long, help: "Hours after an exposure within which a play counts.") var windowHours = 24.0
    @Option(name: .long, help: ArgumentHelp("Keep the replayed store copy at this new path.", valueName: "file")) var keepStore: String?
    @Option(name: .long, help: ArgumentHelp("The tastegraph-server binary (default: beside this one).", valueName: "file")) var serverBinary: String?
    @Flag(name: .long, help: "Replay every arm alone over every user (one server and store copy per arm), and compare each arm with the control paired by user.")
    var eachArm = false
    @Flag(name: .long, help: "Start the server with --no-exposure-log (measures the replay's speed only; the report is then empty).") var noExposureLog = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard (1...3_650).contains(rounds) else { throw ValidationError("--rounds must be between 1 and 3650 (simulated days)") }
        guard (1...500).contains(count) else { throw ValidationError("-k must be between 1 and 500") }
        guard (1...64).contains(connections) else { throw ValidationError("--connections must be between 1 and 64") }
        guard windowHours.isFinite, windowHours >= 0, windowHours <= 24 * 365 else { throw ValidationError("--window-hours must be between 0 and 8760") }
        if server != nil && keepStore != nil { throw ValidationError("--keep-store needs the replay's own server (no --server)") }
        if eachArm && (server != nil || keepStore != nil || noExposureLog) {
            throw ValidationError("--each-arm starts a server per arm: it cannot take --server, --keep-store or --no-exposure-log")
        }
        if let keepStore, FileManager.default.fileExists(atPath: keepStore) { throw ValidationError("--keep-store \(keepStore) exists; name a new file") }
    }

    func run(context: CLIContext) throws {
        let definition: ExperimentDefinition
        do { definition = try ExperimentDefinition.load(path: experiment) } catch let error as ExperimentError { throw ValidationError(error.description) }
        let heldOut = try HeldOutListen.read(path: listens)
        var settings = ReplaySettings()
        settings.rounds = rounds
        settings.seed = seed
        settings.count = count
        settings.connections = connections
        let plan = ReplayPlan(listens: heldOut, settings: settings)
        let quiet = output.quiet
        let say: @Sendable (String) -> Void = { line in if !quiet { context.stderr("replay: " + line + "\n") } }
        say("\(plan.users.count) users, \(plan.listenCount) listens, \(plan.requestCount) exposures")

        if eachArm {
            guard let modelPath = model ?? definition.arms.compactMap(\.modelPath).first else { throw ValidationError("no arm names a model file; give --model") }
            let replay = EachArmReplay(
                definition: definition, store: store.store, model: modelPath, executable: try serverBinary ?? Self.serverBinary(), settings: settings,
                windowHours: windowHours)
            let result = try replay.run(plan, heldOut: heldOut, log: say)
            if output.json {
                context.print(try JSONOutput.encode(EachArmOutput(settings: ReplayOutput.Settings(settings, listens: listens, withheld: nil), result: result)))
                return
            }
            for line in ExperimentTable.lines(result) { context.print(line) }
            return
        }
        var local: LocalReplayServer?
        let url: String, token: String?
        if let server {
            url = server
            do { token = try tokenFile.map { try TokenFile.read($0, minimumLength: 1) } } catch let error as TokenFileError { throw ValidationError(error.description) }
        } else {
            guard let modelPath = model ?? definition.arms.compactMap(\.modelPath).first else {
                throw ValidationError("no arm names a model file; give --model")
            }
            let started = try LocalReplayServer(
                store: store.store, model: modelPath, experiments: [experiment], withholding: heldOut, executable: try serverBinary ?? Self.serverBinary(),
                extraArguments: noExposureLog ? ["--no-exposure-log"] : [], log: say)
            local = started
            url = started.url
            token = started.token
        }
        let driver = ReplayDriver(url: url, token: token, settings: settings)
        let step = max(1, plan.users.count / 10)
        let totals: ReplayTotals
        let report: ExperimentReport
        do {
            totals = try driver.run(plan) { done in if done % step == 0 { say("\(done)/\(plan.users.count) users") } }
            say(String(format: "%d requests in %.1f s (%.0f/s)", totals.requests, totals.seconds, Double(totals.requests) / max(totals.seconds, 1e-9)))
            report = try driver.report(experiment: definition.name, windowHours: windowHours)
        } catch {
            try? local?.stop()
            throw error
        }
        try local?.stop(keepStore: keepStore)
        if output.json {
            context.print(try JSONOutput.encode(ReplayOutput(settings: ReplayOutput.Settings(settings, listens: listens, withheld: local?.withheld), totals: totals, report: report)))
            return
        }
        context.print(String(format: "replayed %d users, %d listens, %d requests in %.1f s", totals.users, totals.listensPosted, totals.requests, totals.seconds))
        for line in ExperimentTable.lines(report) { context.print(line) }
    }

    /// `tastegraph-server` beside the running binary.
    static func serverBinary() throws -> String {
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let beside = me.deletingLastPathComponent().appendingPathComponent("tastegraph-server").path
        guard FileManager.default.isExecutableFile(atPath: beside) else {
            throw ValidationError("no tastegraph-server beside \(me.path); build it (swift build --product tastegraph-server) or give --server-binary")
        }
        return beside
    }
}

/// `tastegraph replay --each-arm --json`.
struct EachArmOutput: Encodable {
    let mode = "each-arm"
    let settings: ReplayOutput.Settings
    let result: EachArmReplay.Result
}

/// `tastegraph replay --json`.
struct ReplayOutput: Encodable {
    struct Settings: Encodable {
        let rounds: Int
        let seed: UInt64
        let k: Int
        let connections: Int
        let listens: String
        let withheld: Int?

        init(_ settings: ReplaySettings, listens: String, withheld: Int?) {
            rounds = settings.rounds
            seed = settings.seed
            k = settings.count
            connections = settings.connections
            self.listens = listens
            self.withheld = withheld
        }
    }

    let settings: Settings
    let totals: ReplayTotals
    let report: ExperimentReport
}
