import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import TasteGraphServing

/// How the HTTP front end listens and what it accepts.
public struct ServerSettings: Sendable {
    /// 127.0.0.1 unless the operator says otherwise.
    public var host = "127.0.0.1"
    /// 0 picks a free port (the `onListening` callback and the log say which).
    public var port = 8080
    /// The bearer token of write and admin routes (nil: those routes are closed).
    public var token: String?
    /// Largest request body; larger ones get 413 before they are read.
    public var maxBodyBytes = 1 << 20
    /// Most elements in one listens, feedback or items batch.
    public var maxBatchSize = 10_000
    /// A connection silent this long (idle, or trickling a request's head) is closed.
    public var idleTimeout: Duration = .seconds(30)
    /// Connections served at once; more wait in the accept backlog.
    public var maxConnections = 1024
    /// Encoded answers kept for reuse until the model or the user changes (0: compute every request).
    public var answerCacheEntries = 200_000
    /// How long a graceful shutdown (SIGTERM) waits for requests in flight.
    public var shutdownGrace: Duration = .seconds(10)

    public init() {}
}

/// Everything a handler reaches: the library, the metrics, the settings, the API document.
struct ServerContext: Sendable {
    let live: LiveServing
    let metrics: ServerMetrics
    let settings: ServerSettings
    let token: [UInt8]?
    let openAPIDocument: [UInt8]
    let cache: AnswerCache
}

/// The TasteGraph HTTP server: Hummingbird 2 over one `LiveServing`.
public struct TasteGraphHTTPServer: Sendable {
    public let live: LiveServing
    public let metrics: ServerMetrics
    public let settings: ServerSettings
    let cache: AnswerCache

    public init(live: LiveServing, settings: ServerSettings, metrics: ServerMetrics = ServerMetrics()) {
        self.live = live
        self.settings = settings
        self.metrics = metrics
        cache = AnswerCache(capacity: settings.answerCacheEntries)
        let model = live.snapshot.model
        metrics.modelServing(kind: model.kind, version: model.version, replacing: nil)
    }

    /// The committed OpenAPI 3.1 document (`Resources/openapi.json`), served at `/openapi.json`.
    public static var openAPIDocument: [UInt8] {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"), let data = try? Data(contentsOf: url) else { return Array("{}".utf8) }
        return Array(data)
    }

    /// The router with every route and middleware, outermost first: request log, metrics, error mapping,
    /// body limit; write routes add the bearer check.
    public func router() -> Router<APIContext> {
        let router = Router(context: APIContext.self)
        router.add(middleware: RequestLogMiddleware())
        router.add(middleware: MetricsMiddleware(metrics: metrics))
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: BodyLimitMiddleware(limit: settings.maxBodyBytes))
        let context = ServerContext(live: live, metrics: metrics, settings: settings, token: settings.token.map { Array($0.utf8) },
                                    openAPIDocument: Self.openAPIDocument, cache: cache)
        Routes.add(to: router, server: context)
        return router
    }

    /// The Hummingbird application, not yet running.
    /// - Parameter onListening: called with the bound port once the socket listens.
    public func application(logger: Logger, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let seconds = Int64(settings.idleTimeout.components.seconds)
        return Application(
            router: router(),
            server: .http1(configuration: .init(idleTimeout: .seconds(seconds), httpDecoderConfiguration: .init(maxHeaderListSize: 16 * 1024))),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: nil,
                                 availableConnectionsDelegate: MaximumAvailableConnections(settings.maxConnections)),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? -1) },
            logger: logger)
    }

    /// Serves until SIGTERM or SIGINT; then stops accepting, lets requests in flight finish (at most
    /// `shutdownGrace`), and returns.
    /// - Parameter watchModelEvery: when set, the model file is checked this often and reloaded when its
    ///   modification time or size changes (`--watch`).
    public func run(logger: Logger, watchModelEvery: Duration? = nil, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        var services: [any Service] = [application(logger: logger, onListening: onListening)]
        if let watchModelEvery {
            services.append(ModelFileWatcher(live: live, metrics: metrics, interval: watchModelEvery, logger: logger))
        }
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = settings.shutdownGrace
        try await ServiceGroup(configuration: configuration).run()
    }
}

/// `--watch`: reloads the model when its file changes (a new modification time or size), as
/// `POST /v1/admin/reload` would; a file that fails to load is logged and the old model keeps serving.
struct ModelFileWatcher: Service {
    let live: LiveServing
    let metrics: ServerMetrics
    let interval: Duration
    let logger: Logger

    func run() async throws {
        var last = signature()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: interval)
            let now = signature()
            guard now != last else { continue }
            last = now
            let old = live.snapshot.model
            do {
                let model = try await live.reloadOffThread()
                metrics.reload(succeeded: true)
                metrics.modelServing(kind: model.kind, version: model.version, replacing: (old.kind, old.version))
                logger.info("reloaded", metadata: ["version": .string(model.version)])
            } catch {
                metrics.reload(succeeded: false)
                logger.warning("reload failed; the old model keeps serving", metadata: ["reason": .string(String(describing: error))])
            }
        }
    }

    func signature() -> String {
        let path = live.modelPath
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return "missing" }
        return "\((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)/\((attributes[.size] as? NSNumber)?.intValue ?? -1)"
    }
}
