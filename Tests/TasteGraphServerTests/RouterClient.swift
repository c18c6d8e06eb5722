import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization
import TasteGraphServer

/// Drives the server's router in-process, with no socket: the same middleware and handlers a live
/// request goes through (what HummingbirdTesting's `.router` mode does, without linking its HTTP client
/// and TLS stack into the tests).
struct RouterClient: Sendable {
    let responder: any HTTPResponder<APIContext>

    init(_ server: TasteGraphHTTPServer) {
        responder = server.router().buildResponder()
    }

    struct Reply: Sendable {
        let status: Int
        let headers: HTTPFields
        let body: Data

        var text: String { String(decoding: body, as: UTF8.self) }

        /// The body as a JSON object (empty when it is not one).
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }

        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            return try decoder.decode(T.self, from: body)
        }
    }

    func get(_ path: String, headers: HTTPFields = [:]) async throws -> Reply {
        try await send(.get, path, headers: headers, body: nil)
    }

    func post(_ path: String, json: String, token: String? = nil, headers: HTTPFields = [:]) async throws -> Reply {
        var fields = headers
        fields[.contentType] = "application/json"
        if let token { fields[.authorization] = "Bearer \(token)" }
        return try await send(.post, path, headers: fields, body: Data(json.utf8))
    }

    func send(_ method: HTTPRequest.Method, _ path: String, headers: HTTPFields, body: Data?) async throws -> Reply {
        var fields = headers
        if let body { fields[.contentLength] = String(body.count) }
        let head = HTTPRequest(method: method, scheme: "http", authority: "127.0.0.1", path: path, headerFields: fields)
        let request = Request(head: head, body: RequestBody(buffer: ByteBuffer(bytes: body ?? Data())))
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        logger[metadataKey: "hb.request.id"] = .string(UUID().uuidString)
        let response = try await responder.respond(to: request, context: APIContext(logger: logger))
        let collector = Collector()
        try await response.body.write(collector)
        return Reply(status: Int(response.status.code), headers: response.headers, body: collector.data)
    }

    /// Gathers a response body.
    final class Collector: ResponseBodyWriter, Sendable {
        let bytes = Mutex(Data())
        var data: Data { bytes.withLock { $0 } }
        func write(_ buffer: ByteBuffer) async throws { bytes.withLock { $0.append(contentsOf: buffer.readableBytesView) } }
        func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}
