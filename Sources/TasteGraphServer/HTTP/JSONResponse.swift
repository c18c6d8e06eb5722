import Foundation
import Hummingbird
import NIOCore

/// JSON in and out of the API: snake_case keys (`predictedPlays` is `predicted_plays`), sorted keys in
/// errors, ISO 8601 dates.
enum JSONResponse {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }

    static let contentType = "application/json; charset=utf-8"

    /// `value` encoded with `status`; an encoding failure (never expected for these value types) is a 500
    /// without internals.
    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = contentType
        guard let body = try? buffer(value) else {
            return Response(status: .internalServerError, headers: [.contentType: contentType],
                            body: .init(byteBuffer: ByteBuffer(string: #"{"error":"internal","detail":"the response could not be encoded"}"#)))
        }
        return Response(status: status, headers: fields, body: .init(byteBuffer: body))
    }

    /// `value` encoded, for an answer that may be cached.
    /// - Throws: `APIError` (500, no internals) when it cannot be encoded.
    static func buffer(_ value: some Encodable) throws -> ByteBuffer {
        guard let data = try? encoder().encode(value) else {
            throw APIError(.internalServerError, "internal", "the response could not be encoded")
        }
        return ByteBuffer(bytes: data)
    }

    /// A 200 with an encoded JSON body.
    static func ok(_ body: ByteBuffer) -> Response {
        Response(status: .ok, headers: [.contentType: contentType], body: .init(byteBuffer: body))
    }

    /// Reads and decodes a request body of at most `limit` bytes.
    /// - Throws: `APIError` 413 over the limit; 422 naming the key path (`listens[3].plays`) of a field that
    ///   is missing or mistyped; 400 for a body that is not JSON.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
        guard let value = try await decode(type, from: request, limit: limit, allowEmpty: false) else {
            throw APIError.badRequest("the request needs a JSON body")
        }
        return value
    }

    /// As `decode`, but an empty body is nil (for routes whose body is optional).
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int, allowEmpty: Bool) async throws -> T? {
        let buffer = try await body(of: request, limit: limit)
        guard buffer.readableBytes > 0 else {
            if allowEmpty { return nil }
            throw APIError.badRequest("the request needs a JSON body")
        }
        return try decode(type, from: buffer)
    }

    /// The request's body, at most `limit` bytes.
    /// - Throws: `APIError` 413 over the limit.
    static func body(of request: Request, limit: Int) async throws -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError.tooLarge(limit: limit)
        }
    }

    /// Decodes a collected body: 422 naming the key path (`listens[3].plays`) of a field that is missing
    /// or mistyped; 400 for a body that is empty or not JSON.
    static func decode<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer) throws -> T {
        guard buffer.readableBytes > 0 else { throw APIError.badRequest("the request needs a JSON body") }
        do {
            return try decoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            // A field missing or of the wrong type is the element's fault (422, naming it); a body that is
            // not JSON at all is the request's (400).
            if let field = error.fieldPath { throw APIError.invalid(field: field, error.readable) }
            throw APIError.badRequest(error.readable)
        } catch {
            throw APIError.badRequest("the body is not valid JSON")
        }
    }
}

extension DecodingError {
    /// The key path at fault in the wire's snake_case, e.g. `listens[3].event_id`.
    var fieldPath: String? {
        let path: [any CodingKey]
        switch self {
        case .keyNotFound(let key, let context): path = context.codingPath + [key]
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context): path = context.codingPath
        @unknown default: return nil
        }
        guard !path.isEmpty else { return nil }
        var text = ""
        for key in path {
            if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + Self.snake(key.stringValue) }
        }
        return text
    }

    var readable: String {
        switch self {
        case .keyNotFound(let key, _): return "missing required field '\(Self.snake(key.stringValue))'"
        case .typeMismatch(let type, _): return "wrong type: expected \(Self.jsonName(type))"
        case .valueNotFound(let type, _): return "null where \(Self.jsonName(type)) is required"
        case .dataCorrupted: return "the body is not valid JSON of the expected shape"
        @unknown default: return "the body does not have the expected shape"
        }
    }

    static func snake(_ key: String) -> String {
        var out = ""
        for ch in key {
            if ch.isUppercase { out += "_" + ch.lowercased() } else { out.append(ch) }
        }
        return out
    }

    static func jsonName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        case is Bool.Type: return "true or false"
        default: return type is any Collection.Type ? "an array" : "an object"
        }
    }
}
