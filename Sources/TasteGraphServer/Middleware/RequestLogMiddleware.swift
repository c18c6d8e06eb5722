import HTTPTypes
import Hummingbird
import Logging

/// Outermost: gives each request an id (a client's `X-Request-Id` when it is short and plain, else
/// Hummingbird's random one), puts it in the logger's metadata and the response, and logs one line per
/// request with method, route, status and milliseconds.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = APIContext
    static let header = HTTPField.Name("X-Request-Id")!

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        var context = context
        let id = request.headers[Self.header].flatMap(Self.acceptable) ?? (context.logger[metadataKey: "hb.request.id"]?.description ?? "-")
        context.requestID = id
        context.logger[metadataKey: "request_id"] = .string(id)
        let start = ContinuousClock.now
        var response = try await next(request, context)
        response.headers[Self.header] = id
        let elapsed = ContinuousClock.now - start
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        context.logger.info(
            "request",
            metadata: [
                "method": .string(request.method.rawValue), "route": .string(context.endpointPath ?? "NotFound"),
                "status": .stringConvertible(response.status.code), "ms": .string(String(format: "%.2f", ms)),
            ])
        return response
    }

    /// At most 64 characters of letters, digits, `-`, `_` and `.`; anything else is replaced by our own id.
    static func acceptable(_ value: String) -> String? {
        guard !value.isEmpty, value.count <= 64,
              value.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)) })
        else { return nil }
        return value
    }
}
