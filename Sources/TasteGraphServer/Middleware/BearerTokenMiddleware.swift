import Hummingbird

/// Write and admin routes: `Authorization: Bearer <token>` must carry the server's token, compared in
/// constant time (the time taken does not depend on where the first differing byte is).
/// With no token configured these routes are closed (401 saying how to open them).
struct BearerTokenMiddleware: RouterMiddleware {
    typealias Context = APIContext
    let token: [UInt8]?

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        guard let token else {
            throw APIError.unauthorized("this server was started without --token-file, so write and admin routes are closed")
        }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
              Self.constantTimeEqual(Array(header.utf8.dropFirst(7)), token)
        else {
            throw APIError.unauthorized("send 'Authorization: Bearer <token>' with the token from the server's --token-file")
        }
        return try await next(request, context)
    }

    /// Equal length and bytes; the loop always runs over every byte of `a`.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt(bitPattern: a.count ^ b.count)
        for index in a.indices { difference |= UInt(a[index] ^ (index < b.count ? b[index] : 0)) }
        return difference == 0
    }
}
