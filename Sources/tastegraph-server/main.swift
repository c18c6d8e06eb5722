import ArgumentParser
import Foundation
import Logging
import TasteGraphServer
import TasteGraphServing
import TasteGraphSupport

/// `tastegraph-server`: the live HTTP service (a separate executable, so the `tastegraph` CLI never waits
/// for Hummingbird's build; see the README).
@main
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tastegraph-server",
        abstract: "Serve recommendations, related artists, similar songs and segments over HTTP, with live listens.",
        discussion: """
            Loads the store and the model once, answers the JSON API under /v1 (described at /openapi.json), \
            takes live listens, feedback and new songs (bearer token: --token-file), and folds listeners in at \
            once so their next list reflects what they just played. POST /v1/admin/reload (or SIGHUP-free \
            --watch) swaps in a newer model file without dropping a request. SIGTERM or SIGINT stop taking \
            connections and finish the requests in flight.

            Binds 127.0.0.1 unless --host says otherwise. Prints `listening on http://HOST:PORT` to stderr once \
            ready (--port 0 picks a free port).
            """
    )

    @Option(name: .long, help: ArgumentHelp("The TasteGraph store (SQLite) to serve and to write live events to.", valueName: "file"))
    var store: String
    @Option(name: .long, help: ArgumentHelp("Model file written by `tastegraph train` (GCN checkpoint or baseline archive).", valueName: "file"))
    var model: String
    @Option(name: .long, help: "Address to bind (127.0.0.1: this machine only).") var host = "127.0.0.1"
    @Option(name: .long, help: "Port to listen on (0: any free port).") var port = 8080
    @Option(name: .long, help: ArgumentHelp("File whose first line is the bearer token of write and admin routes (without it they are closed).", valueName: "file"))
    var tokenFile: String?
    @Option(name: .long, help: "Largest request body in bytes (larger: 413).") var maxBodyBytes = 1 << 20
    @Option(name: .long, help: "Most elements in one listens, feedback or items batch.") var maxBatch = 10_000
    @Option(name: .long, help: "Users with fewer listens than this get the cold-start mix.") var coldStartMinListens = 3
    @Option(name: .long, help: "Encoded answers kept until the model or the user changes (0: compute every request).")
    var answerCache = 200_000
    @Flag(name: .long, help: "Skip what explanations need at load (faster start; explain=true is then refused).") var noExplanations = false
    @Flag(name: .long, help: "fsync every live write (survives power loss; default: survives a killed process).") var fsync = false
    @Option(name: .long, help: "Seconds between checks of the model file; on a change it is reloaded (0: off).") var watch = 0.0
    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel = "info"
    @Option(name: .long, help: ArgumentHelp(
        "Experiment file (JSON: name, salt, arms with share and model or policy; see the README). Repeat for experiments on disjoint traffic slices of one layer.",
        valueName: "file"))
    var experiment: [String] = []
    @Option(name: .long, help: ArgumentHelp(
        "Policy file (JSON: rules for cold-start, low-engagement and low-discovery listeners; see the README) answering every user no experiment routes.",
        valueName: "file"))
    var policy: String?
    @Flag(name: .long, help: "Do not record served lists in the store's exposure log (experiment reports then see nothing).") var noExposureLog = false

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be between 0 and 65535, got \(port)") }
        guard maxBodyBytes >= 1024 else { throw ValidationError("--max-body-bytes must be at least 1024") }
        guard maxBatch >= 1 else { throw ValidationError("--max-batch must be at least 1") }
        guard coldStartMinListens >= 0 else { throw ValidationError("--cold-start-min-listens must be ≥ 0") }
        guard answerCache >= 0 else { throw ValidationError("--answer-cache must be ≥ 0") }
        guard watch >= 0 else { throw ValidationError("--watch must be ≥ 0 seconds") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical") }
    }

    func run() async throws {
        var logger = Logger(label: "tastegraph-server")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        if let line = BLASThreads.apply(environment: ProcessInfo.processInfo.environment) { logger.info("\(line)") }
        var settings = ServerSettings()
        settings.host = host
        settings.port = port
        settings.maxBodyBytes = maxBodyBytes
        settings.maxBatchSize = maxBatch
        settings.answerCacheEntries = answerCache
        if let tokenFile {
            do { settings.token = try TokenFile.read(tokenFile) } catch let error as TokenFileError { throw ValidationError(error.description) }
        }
        var configuration = ServingConfiguration(storePath: store, modelPath: model)
        configuration.policy = ColdStartPolicy(minimumListens: coldStartMinListens)
        configuration.explanations = !noExplanations
        configuration.logExposures = !noExposureLog
        do {
            configuration.experiments = try ExperimentSet(experiment.map(ExperimentDefinition.load(path:)))
            configuration.listenerPolicy = try policy.map(ExperimentDefinition.loadPolicy(path:))
        } catch {
            FileHandle.standardError.write(Data("tastegraph-server: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let metrics = ServerMetrics()
        let live: LiveServing
        do {
            live = try LiveServing(configuration: configuration, durability: fsync ? .powerLoss : .processCrash,
                                   onFold: { metrics.foldIn(model: $0, duration: $1) })
        } catch {
            FileHandle.standardError.write(Data("tastegraph-server: cannot serve: \(error)\n".utf8))
            throw ExitCode(3)
        }
        logger.info("loaded", metadata: ["model": .string(live.snapshot.model.kind), "version": .string(live.snapshot.model.version)])
        for definition in configuration.experiments.experiments {
            logger.info("experiment", metadata: ["name": .string(definition.name), "arms": .string(definition.arms.map { "\($0.name)=\($0.share)" }.joined(separator: ","))])
        }
        let server = TasteGraphHTTPServer(live: live, settings: settings, metrics: metrics)
        try await server.run(logger: logger, watchModelEvery: watch > 0 ? .milliseconds(Int64(watch * 1000)) : nil) { port in
            FileHandle.standardError.write(Data("listening on http://\(host):\(port)\n".utf8))
        }
        live.close()  // the exposure journal moved into the store, the writers stopped
    }
}
