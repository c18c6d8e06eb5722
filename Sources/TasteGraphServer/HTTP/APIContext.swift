import Hummingbird
import Logging

/// The per-request context: Hummingbird's core storage and the request id the log lines carry.
public struct APIContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The id logged with every line of this request and returned as `X-Request-Id`.
    public var requestID = ""

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// A context without a connection, for driving the router in-process (tests).
    public init(logger: Logger) {
        coreContext = .init(source: LoggerSource(logger: logger))
    }

    struct LoggerSource: RequestContextSource {
        let logger: Logger
    }
}
