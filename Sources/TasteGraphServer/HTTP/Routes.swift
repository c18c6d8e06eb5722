import Foundation
import Hummingbird
import NIOCore
import TasteGraphServing
import TasteGraphStore

/// The API's routes over one `LiveServing`: each handler parses its parameters, calls one library method,
/// and encodes the value it returns. Everything else (ids, cold start, fold-in, storage) is the library's.
enum Routes {
    /// Largest `k` a list route accepts.
    static let maximumCount = 500
    /// Largest request body whose answer the session routes cache (a session or playlist of a few dozen ids).
    static let cacheableBody = 4_096

    static func add(to router: Router<APIContext>, server: ServerContext) {
        let live = server.live
        router.get("/healthz") { _, _ in JSONResponse.make(["status": "ok"]) }
        router.get("/readyz") { _, _ in JSONResponse.make(Readiness(ready: true, model: live.snapshot.model)) }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: server.metrics.text())))
        }
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: JSONResponse.contentType], body: .init(byteBuffer: ByteBuffer(bytes: server.openAPIDocument)))
        }

        let v1 = router.group("v1")
        v1.get("users/{user}/recommendations") { request, context in
            let query = request.uri.queryParameters
            var ask = RecommendationRequest(user: try path(context, "user"), count: try count(query, default: 20))
            ask.explain = try flag(query, "explain")
            ask.excludedArtists = query[values: "exclude_artist"].map(String.init)
            ask.maxPerArtist = try integer(query, "max_per_artist", default: 0, range: 0...maximumCount)
            ask.minPopularity = try number(query, "min_popularity", default: 0, range: 0...1)
            ask.diversity = try number(query, "diversity", default: 0, range: 0...1)
            let at = try query["at"].map { try time(String($0), field: "at") } ?? Int64(Date().timeIntervalSince1970)
            let answer = try server.cache.answer(for: request.uri.description, version: live.answerVersion(forUser: ask.user)) {
                let response = try serve { try live.recommend(ask) }
                return CachedAnswer(
                    body: try JSONResponse.buffer(response), exposure: live.logsExposures ? try serve { try live.exposureEntry(of: response) } : nil,
                    arm: response.experiment?.arm ?? "default")
            }
            if let entry = answer.exposure {  // answered only once logged
                try live.log(entry, at: at)
                server.metrics.exposureLogged(arm: answer.arm)
            }
            return JSONResponse.ok(answer.body)
        }
        v1.get("experiments/{name}") { request, context in
            let name = try path(context, "name")
            let query = request.uri.queryParameters
            let hours = try number(query, "window_hours", default: 24, range: 0...(24 * 365))
            let report = try serve { try live.report(experiment: name, window: Int64((hours * 3_600).rounded())) }
            guard let arm = query["arm"].map(String.init) else { return JSONResponse.make(report) }
            guard report.arms.contains(where: { $0.arm == arm }) else {
                throw APIError.invalid(field: "arm", "no arm '\(arm)' in \(name); arms: \(report.arms.map(\.arm).joined(separator: ", "))")
            }
            return JSONResponse.make(report.only(arm: arm))
        }
        v1.get("artists/{artist}/related") { request, context in
            let ask = RelatedArtistsRequest(artists: [try path(context, "artist")], count: try count(request.uri.queryParameters, default: 10))
            let snapshot = live.snapshot
            let body = try server.cache.body(for: request.uri.description, version: AnswerVersion(snapshot: snapshot)) {
                try JSONResponse.buffer(try serve { try snapshot.related.related(ask) })
            }
            return JSONResponse.ok(body)
        }
        v1.get("items/{item}/similar") { request, context in
            let query = request.uri.queryParameters
            let basis = try query["by"].map { value -> SimilarityBasis in
                guard let basis = SimilarityBasis(rawValue: String(value)) else {
                    throw APIError.invalid(field: "by", "must be 'text' or 'listens', got '\(value)'")
                }
                return basis
            } ?? .listens
            let ask = SimilarItemsRequest(item: try path(context, "item"), count: try count(query, default: 10), by: basis)
            let snapshot = live.snapshot
            let body = try server.cache.body(for: request.uri.description, version: AnswerVersion(snapshot: snapshot)) {
                try JSONResponse.buffer(try serve { try snapshot.similar.similar(ask) })
            }
            return JSONResponse.ok(body)
        }
        v1.get("users/{user}/segment") { _, context in
            let user = try path(context, "user")
            return try respond { try live.snapshot.segment(forUser: user) }
        }

        // Session routes: POST for a body of items, but reads (no token, nothing stored). Their answers
        // depend on the body and the snapshot only, so the answer cache keys them by the body's bytes (bodies
        // of at most `cacheableBody` bytes: a key never holds more, whatever clients send).
        v1.post("sessions/next") { request, _ in
            let body = try await JSONResponse.body(of: request, limit: server.settings.maxBodyBytes)
            let snapshot = live.snapshot
            return JSONResponse.ok(try server.cache.body(for: "sessions/next " + String(buffer: body), version: body.readableBytes <= cacheableBody ? AnswerVersion(snapshot: snapshot) : nil) {
                let ask = try JSONResponse.decode(SessionNextRequest.self, from: body)
                try checkBatch(max(1, ask.items.count), field: "items", limit: server.settings.maxBatchSize)
                return SessionAnswerJSON.buffer(try serve { try snapshot.sessions.get().next(ask) })
            })
        }
        v1.post("playlists/continue") { request, _ in
            let body = try await JSONResponse.body(of: request, limit: server.settings.maxBodyBytes)
            let snapshot = live.snapshot
            return JSONResponse.ok(try server.cache.body(for: "playlists/continue " + String(buffer: body), version: body.readableBytes <= cacheableBody ? AnswerVersion(snapshot: snapshot) : nil) {
                let ask = try JSONResponse.decode(PlaylistContinueRequest.self, from: body)
                try checkBatch(ask.items.count, field: "items", limit: server.settings.maxBatchSize)
                return SessionAnswerJSON.buffer(try serve { try snapshot.sessions.get().continuation(ask) })
            })
        }

        let writes = v1.group().add(middleware: BearerTokenMiddleware(token: server.token))
        writes.post("listens") { request, _ in
            let batch = try await JSONResponse.decode(ListenBatch.self, from: request, limit: server.settings.maxBodyBytes)
            try checkBatch(batch.listens.count, field: "listens", limit: server.settings.maxBatchSize)
            let receipt: ListenReceipt
            do { receipt = try await live.ingest(batch.listens) } catch let error as ServingError { throw APIError(error) }
            server.metrics.listensIngested(accepted: receipt.accepted, duplicates: receipt.duplicates)
            return JSONResponse.make(receipt)
        }
        writes.post("feedback") { request, _ in
            let batch = try await JSONResponse.decode(FeedbackBatch.self, from: request, limit: server.settings.maxBodyBytes)
            try checkBatch(batch.feedback.count, field: "feedback", limit: server.settings.maxBatchSize)
            return try respond { try live.feedback(batch.feedback) }
        }
        writes.post("items") { request, _ in
            let batch = try await JSONResponse.decode(NewItemBatch.self, from: request, limit: server.settings.maxBodyBytes)
            try checkBatch(batch.items.count, field: "items", limit: server.settings.maxBatchSize)
            return try respond { try live.addItems(batch.items) }
        }
        writes.post("admin/reload") { request, _ in
            let ask = try await JSONResponse.decode(ReloadRequest.self, from: request, limit: server.settings.maxBodyBytes, allowEmpty: true) ?? ReloadRequest()
            let old = live.snapshot.model
            do {
                let model = try await live.reloadOffThread(modelPath: ask.model)
                server.metrics.reload(succeeded: true)
                server.metrics.modelServing(kind: model.kind, version: model.version, replacing: (old.kind, old.version))
                return JSONResponse.make(ReloadResponse(model: model, previous: old))
            } catch let error as ServingError {
                server.metrics.reload(succeeded: false)
                throw APIError(error)
            }
        }
    }

    /// Runs a library call and turns its `ServingError` into the matching API error.
    static func serve<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as ServingError { throw APIError(error) }
    }

    /// `serve`, encoded as the 200 response.
    static func respond<T: Encodable>(_ body: () throws -> T) throws -> Response {
        JSONResponse.make(try serve(body))
    }

    /// A path parameter, percent-decoded (`Doom%20of%20Skull` is `Doom of Skull`).
    static func path(_ context: APIContext, _ name: String) throws -> String {
        let raw = try context.parameters.require(name)
        guard let decoded = raw.removingPercentEncoding else {
            throw APIError.badRequest(field: name, "'\(raw)' is not valid percent-encoding")
        }
        return decoded
    }

    /// An RFC 3339 date-time or Unix seconds, as Unix seconds.
    static func time(_ text: String, field: String) throws -> Int64 {
        if let seconds = Int64(text) {
            guard (0..<4_102_444_800).contains(seconds) else { throw APIError.invalid(field: field, "must lie between 1970 and 2100") }
            return seconds
        }
        return try serve { try EventValidation.time(text, field: field) }
    }

    static func checkBatch(_ count: Int, field: String, limit: Int) throws {
        guard count >= 1 else { throw APIError.invalid(field: field, "send at least one element") }
        guard count <= limit else { throw APIError.invalid(field: field, "at most \(limit) elements per request, got \(count); split the batch") }
    }

    static func count(_ query: Parameters, default value: Int) throws -> Int {
        try integer(query, "k", default: value, range: 1...maximumCount)
    }

    static func integer(_ query: Parameters, _ name: Substring, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = query[name] else { return value }
        guard let number = Int(text) else { throw APIError.invalid(field: String(name), "must be an integer, got '\(text)'") }
        guard range.contains(number) else {
            throw APIError.invalid(field: String(name), "must be between \(range.lowerBound) and \(range.upperBound), got \(number)")
        }
        return number
    }

    static func number(_ query: Parameters, _ name: Substring, default value: Double, range: ClosedRange<Double>) throws -> Double {
        guard let text = query[name] else { return value }
        guard let number = Double(text), number.isFinite else { throw APIError.invalid(field: String(name), "must be a number, got '\(text)'") }
        guard range.contains(number) else {
            throw APIError.invalid(field: String(name), "must be between \(range.lowerBound) and \(range.upperBound), got \(number)")
        }
        return number
    }

    static func flag(_ query: Parameters, _ name: Substring) throws -> Bool {
        guard let text = query[name] else { return false }
        switch text.lowercased() {
        case "", "1", "true", "yes": return true
        case "0", "false", "no": return false
        default: throw APIError.invalid(field: String(name), "must be true or false, got '\(text)'")
        }
    }
}

struct Readiness: Codable, Sendable {
    let ready: Bool
    let model: ServedModel
}

/// `POST /v1/admin/reload`: a model file to load (default: the one the server was started with, re-read).
struct ReloadRequest: Codable, Sendable {
    var model: String?
}

struct ReloadResponse: Codable, Sendable {
    let model: ServedModel
    let previous: ServedModel
}
