import Foundation
import TasteGraphServer
import TasteGraphServing
import Testing

/// Every read route and its errors, in-process through the real router and middleware.
@Suite struct ReadRoutesTests {
    @Test func healthReadinessMetricsAndTheAPIDocument() async throws {
        let f = try ServerFixture()
        let health = try await f.client.get("/healthz")
        #expect(health.status == 200 && health.json["status"] as? String == "ok")
        let ready = try await f.client.get("/readyz")
        #expect(ready.status == 200 && ready.json["ready"] as? Bool == true)
        #expect((ready.json["model"] as? [String: Any])?["kind"] as? String == "itemknn")
        _ = try await f.client.get("/v1/users/nobody/recommendations?k=3")
        let metrics = try await f.client.get("/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.text.contains(#"tastegraph_http_requests_total{route="/v1/users/{user}/recommendations",method="GET",status="200"} 1"#), "\(metrics.text)")
        #expect(metrics.text.contains("tastegraph_http_request_duration_seconds_bucket"))
        #expect(metrics.text.contains(#"tastegraph_model_info{kind="itemknn",version=""#))
        let document = try await f.client.get("/openapi.json")
        #expect(document.status == 200 && document.json["openapi"] as? String == "3.1.0")
    }

    @Test func recommendationsInExternalIDsWithSnakeCaseKeys() async throws {
        let f = try ServerFixture()
        let user = f.live.snapshot.recommendations.users[0]
        let reply = try await f.client.get("/v1/users/\(user)/recommendations?k=5&explain=true")
        #expect(reply.status == 200, "\(reply.text)")
        let answer = try reply.decode(RecommendationResponse.self)
        #expect(answer.user == user && !answer.coldStart && answer.recommendations.count == 5)
        #expect(answer.model.version == f.live.snapshot.model.version)
        #expect(reply.text.contains("\"cold_start\":false") && reply.text.contains("\"because\""))
        let heard = Set(f.live.snapshot.recommendations.history(of: user).map { f.live.snapshot.recommendations.catalog.externalID(of: $0.item) })
        #expect(answer.recommendations.allSatisfy { !heard.contains($0.item) })
        let stranger = try await f.client.get("/v1/users/someone-new/recommendations?k=4")
        #expect(try stranger.decode(RecommendationResponse.self).coldStart)
        #expect(try stranger.decode(RecommendationResponse.self).recommendations.count == 4)
        #expect(reply.headers[values: .init("X-Request-Id")!].count == 1)
    }

    @Test func businessRulesThroughTheQuery() async throws {
        let f = try ServerFixture()
        let user = f.live.snapshot.recommendations.users[1]
        let capped = try await f.client.get("/v1/users/\(user)/recommendations?k=20&max_per_artist=1").decode(RecommendationResponse.self)
        #expect(Set(capped.recommendations.map(\.artist)).count == capped.recommendations.count)
        let top = capped.recommendations[0].artist
        let path = "/v1/users/\(user)/recommendations?k=20&exclude_artist=\(top.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)"
        let excluded = try await f.client.get(path).decode(RecommendationResponse.self)
        #expect(!excluded.recommendations.isEmpty && excluded.recommendations.allSatisfy { $0.artist != top })
    }

    /// Bad parameters are 422 naming the parameter; unknown things are 404; every error is the JSON shape.
    @Test(arguments: [
        ("/v1/users/u/recommendations?k=0", 422, "k"),
        ("/v1/users/u/recommendations?k=abc", 422, "k"),
        ("/v1/users/u/recommendations?k=501", 422, "k"),
        ("/v1/users/u/recommendations?min_popularity=2", 422, "min_popularity"),
        ("/v1/users/u/recommendations?explain=maybe", 422, "explain"),
        ("/v1/users/u/recommendations?exclude_artist=No%20Such%20Artist%20Anywhere", 404, "exclude_artist"),
        ("/v1/artists/No%20Such%20Artist%20Anywhere/related", 404, "artist"),
        ("/v1/items/nope/similar", 404, "item"),
        ("/v1/items/nope/similar?by=colour", 422, "by"),
        ("/v1/users/nobody/segment", 404, "user"),
    ])
    func badRequestsAreJSONErrors(path: String, status: Int, field: String) async throws {
        let f = try ServerFixture()
        let reply = try await f.client.get(path)
        #expect(reply.status == status, "\(path): \(reply.text)")
        #expect(reply.json["field"] as? String == field, "\(path): \(reply.text)")
        #expect(!(reply.json["detail"] as? String ?? "").isEmpty && reply.json["error"] is String)
    }

    @Test func anUnknownRouteIsAJSON404() async throws {
        let f = try ServerFixture()
        let reply = try await f.client.get("/v2/whatever")
        #expect(reply.status == 404 && reply.json["error"] as? String == "not_found", "\(reply.text)")
    }

    @Test func relatedArtistsByNameAndUnknownNamesGetTheClosestOnes() async throws {
        let f = try ServerFixture()
        let catalog = f.live.snapshot.recommendations.catalog
        let name = catalog.artistNames[0]
        let reply = try await f.client.get("/v1/artists/\(name.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)/related?k=5")
        #expect(reply.status == 200, "\(reply.text)")
        let answer = try reply.decode(RelatedArtistsResponse.self)
        #expect(answer.related.count == 5 && !answer.related.contains { $0.name == name })
        let typo = String(name.dropLast())
        let missing = try await f.client.get("/v1/artists/\(typo.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)/related")
        #expect(missing.status == 404)
        #expect((missing.json["detail"] as? String ?? "").contains(name), "\(missing.text)")
    }

    @Test func similarItemsByTextAndByListens() async throws {
        let f = try ServerFixture()
        let item = f.live.snapshot.recommendations.catalog.itemExternalIDs[0]
        for basis in ["text", "listens"] {
            let reply = try await f.client.get("/v1/items/\(item)/similar?k=5&by=\(basis)")
            #expect(reply.status == 200, "\(reply.text)")
            let answer = try reply.decode(SimilarItemsResponse.self)
            #expect(answer.similar.count == 5 && !answer.similar.contains { $0.item == item })
        }
    }

    @Test func aUsersSegment() async throws {
        let f = try ServerFixture()
        let user = f.live.snapshot.recommendations.users[0]
        let reply = try await f.client.get("/v1/users/\(user)/segment")
        #expect(reply.status == 200, "\(reply.text)")
        #expect(try reply.decode(SegmentResponse.self).user == user)
    }
}
