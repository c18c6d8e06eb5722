import Foundation
import Hummingbird
import TasteGraphServing

/// Every error the server answers, as one JSON body: `{"error": code, "field": name?, "detail": text}`.
///
/// `error` is a short stable code a client can switch on (`invalid`, `not_found`, `unauthorized`,
/// `conflict`, `too_large`, `bad_request`, `internal`); `field` names the parameter or body element at
/// fault (`k`, `listens[3].plays`); `detail` says what is wrong and what to do, never internals.
public struct APIError: Error, HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let body: Body

    public struct Body: Codable, Sendable, Equatable {
        public let error: String
        public let field: String?
        public let detail: String
    }

    public init(_ status: HTTPResponse.Status, _ code: String, field: String? = nil, _ detail: String) {
        self.status = status
        body = Body(error: code, field: field, detail: detail)
    }

    public static func invalid(field: String, _ detail: String) -> APIError { APIError(.unprocessableContent, "invalid", field: field, detail) }
    public static func badRequest(field: String? = nil, _ detail: String) -> APIError { APIError(.badRequest, "bad_request", field: field, detail) }
    public static func notFound(field: String? = nil, _ detail: String) -> APIError { APIError(.notFound, "not_found", field: field, detail) }
    public static func conflict(field: String? = nil, _ detail: String) -> APIError { APIError(.conflict, "conflict", field: field, detail) }
    public static func unauthorized(_ detail: String) -> APIError { APIError(.unauthorized, "unauthorized", detail) }
    /// - Parameter limit: the body limit in bytes, when the code that refused the body knows it.
    public static func tooLarge(limit: Int?) -> APIError {
        let accepted = limit.map { " (\($0) bytes)" } ?? ""
        return APIError(.contentTooLarge, "too_large", "the request body is larger than this server accepts\(accepted); send smaller batches")
    }

    /// The serving library's error with the status its kind calls for.
    public init(_ error: ServingError) {
        switch error.kind {
        case .invalid: self = .invalid(field: error.field, error.detail)
        case .notFound: self = .notFound(field: error.field, error.detail)
        case .conflict, .unavailable: self = .conflict(field: error.field, error.detail)
        }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        JSONResponse.make(body, status: status)
    }
}
