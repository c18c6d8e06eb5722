import Hummingbird
import Prometheus
import Synchronization

/// Every metric the server exports, defined once over one registry (no global metrics system):
/// `GET /metrics` prints them in Prometheus text format.
///
/// - `tastegraph_http_requests_total{route,method,status}` and
///   `tastegraph_http_request_duration_seconds{route,method}`: per route (the route's pattern, never the
///   raw path, so label values stay few);
/// - `tastegraph_model_info{kind,version}`: 1 for the model serving now, 0 for ones it replaced;
/// - `tastegraph_listens_ingested_total{result}` (`accepted`, `duplicate`) and
///   `tastegraph_fold_in_duration_seconds{model}`: live listens, and the time to fold one user in (at the
///   user's first read after them);
/// - `tastegraph_reloads_total{result}` (`ok`, `failed`).
public final class ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let exposureCounters = Mutex<[String: Counter]>([:])
    static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1), .seconds(5),
    ]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    func recordRequest(route: String, method: String, status: Int, duration: Duration) {
        registry.makeCounter(
            descriptor: .init(namespace: "tastegraph", subsystem: "http", metricName: "requests", unitName: "total", helpText: "HTTP requests answered, by route pattern, method and status."),
            labels: [("route", route), ("method", method), ("status", String(status))]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: .init(namespace: "tastegraph", subsystem: "http", metricName: "request_duration", unitName: "seconds", helpText: "Time to answer an HTTP request, by route pattern and method."),
            labels: [("route", route), ("method", method)], buckets: Self.latencyBuckets
        ).record(duration)
    }

    func modelServing(kind: String, version: String, replacing old: (kind: String, version: String)?) {
        let descriptor = MetricNameDescriptor(namespace: "tastegraph", metricName: "model_info", unitName: "", helpText: "1 for the model file serving now (kind, first 16 hex digits of its SHA-256), 0 for those it replaced.")
        if let old { registry.makeGauge(descriptor: descriptor, labels: [("kind", old.kind), ("version", old.version)]).set(to: 0.0) }
        registry.makeGauge(descriptor: descriptor, labels: [("kind", kind), ("version", version)]).set(to: 1.0)
    }

    func listensIngested(accepted: Int, duplicates: Int) {
        let descriptor = MetricNameDescriptor(namespace: "tastegraph", metricName: "listens_ingested", unitName: "total", helpText: "Live listens received, by result (accepted, duplicate).")
        registry.makeCounter(descriptor: descriptor, labels: [("result", "accepted")]).increment(by: Int64(accepted))
        registry.makeCounter(descriptor: descriptor, labels: [("result", "duplicate")]).increment(by: Int64(duplicates))
    }

    /// Counts one list recorded in the exposure log (the counter of each arm made once: this runs per request).
    func exposureLogged(arm: String) {
        let counter = exposureCounters.withLock { counters in
            if let counter = counters[arm] { return counter }
            let descriptor = MetricNameDescriptor(namespace: "tastegraph", metricName: "exposures_logged", unitName: "total", helpText: "Recommendation lists recorded in the exposure log, by experiment arm.")
            let counter = registry.makeCounter(descriptor: descriptor, labels: [("arm", arm)])
            counters[arm] = counter
            return counter
        }
        counter.increment()
    }

    /// Records one fold-in (pass this to `LiveServing`'s `onFold`).
    public func foldIn(model: String, duration: Duration) {
        registry.makeDurationHistogram(
            descriptor: .init(namespace: "tastegraph", metricName: "fold_in_duration", unitName: "seconds", helpText: "Time to fold one user into the model from their whole history (at the first read after their live events)."),
            labels: [("model", model)], buckets: Self.latencyBuckets
        ).record(duration)
    }

    func reload(succeeded: Bool) {
        registry.makeCounter(
            descriptor: .init(namespace: "tastegraph", metricName: "reloads", unitName: "total", helpText: "Model reloads, by result (ok, failed)."),
            labels: [("result", succeeded ? "ok" : "failed")]
        ).increment()
    }

    /// The exposition text.
    func text() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}

/// Records each request's count and latency under its route pattern (`NotFound` for no route).
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = APIContext
    let metrics: ServerMetrics

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        metrics.recordRequest(route: context.endpointPath ?? "NotFound", method: request.method.rawValue, status: Int(response.status.code),
                              duration: ContinuousClock.now - start)
        return response
    }
}
