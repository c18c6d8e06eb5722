import Hummingbird
import Logging
import NIOCore

/// Turns every error into a JSON `APIError` response, so the middleware outside it (metrics, the request
/// log) sees the final status and no client ever gets an empty 500 or an internal message.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = APIContext

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return JSONResponse.make(error.body, status: error.status)
        } catch let error as HTTPError {
            return JSONResponse.make(Self.mapped(error).body, status: error.status)
        } catch is NIOTooManyBytesError {
            return JSONResponse.make(APIError.tooLarge(limit: nil).body, status: .contentTooLarge)
        } catch let error as any HTTPResponseError {
            return JSONResponse.make(APIError(error.status, Self.code(error.status), error.status.reasonPhrase).body, status: error.status)
        } catch {
            context.logger.error("unhandled error", metadata: ["error": .string(String(describing: error))])
            return JSONResponse.make(APIError(.internalServerError, "internal", "the server could not answer this request; it was logged with the request id").body,
                                     status: .internalServerError)
        }
    }

    /// Hummingbird's own errors (unknown route, bad parameter) in our shape.
    static func mapped(_ error: HTTPError) -> APIError {
        if error.status == .notFound {
            return .notFound("no such route; see /openapi.json")
        }
        return APIError(error.status, code(error.status), error.body ?? error.status.reasonPhrase)
    }

    static func code(_ status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: "bad_request"
        case 401: "unauthorized"
        case 404: "not_found"
        case 405: "method_not_allowed"
        case 409: "conflict"
        case 413: "too_large"
        case 422: "invalid"
        default: status.code >= 500 ? "internal" : "bad_request"
        }
    }
}

/// Refuses a body that announces more than `limit` bytes before it is read (413); bodies without a
/// length are bounded where they are read (`JSONResponse.decode`).
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = APIContext
    let limit: Int

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw APIError.tooLarge(limit: limit)
        }
        return try await next(request, context)
    }
}
