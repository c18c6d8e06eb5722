import Foundation
import TasteGraphCore
import TasteGraphServer
import TasteGraphServing
import Testing

/// `diversity` on the recommendations route: the MMR re-ranking of the serving library, in range 0…1.
@Suite struct DiversityRouteTests {
    /// The mean listener-set cosine over the pairs of a served list.
    static func meanPairwiseSimilarity(_ answer: RecommendationResponse, service: RecommendationService) throws -> Double {
        let ids = try service.catalog.itemIDs()
        let items = answer.recommendations.compactMap { ids.index(of: $0.item) }
        let similarity = service.itemSimilarity()
        var total = 0.0
        var pairs = 0
        for a in items.indices {
            for b in items.indices where b > a {
                total += similarity.similarity(items[a], items[b])
                pairs += 1
            }
        }
        return pairs > 0 ? total / Double(pairs) : 0
    }

    @Test func diversityReRanksTowardUnlikeItemsAndZeroKeepsTheScoreOrder() async throws {
        let f = try ServerFixture()
        let service = f.live.snapshot.recommendations
        let user = service.users[2]
        let plain = try await f.client.get("/v1/users/\(user)/recommendations?k=10").decode(RecommendationResponse.self)
        let zero = try await f.client.get("/v1/users/\(user)/recommendations?k=10&diversity=0").decode(RecommendationResponse.self)
        #expect(zero.recommendations == plain.recommendations)
        let reply = try await f.client.get("/v1/users/\(user)/recommendations?k=10&diversity=0.9")
        #expect(reply.status == 200, "\(reply.text)")
        let diverse = try reply.decode(RecommendationResponse.self)
        #expect(!diverse.coldStart && diverse.recommendations.count == 10)
        #expect(diverse.recommendations.map(\.item) != plain.recommendations.map(\.item))
        // The best-scored item still leads (MMR's first pick), and nothing heard appears.
        #expect(diverse.recommendations.first?.item == plain.recommendations.first?.item)
        let heard = Set(service.history(of: user).map { service.catalog.externalID(of: $0.item) })
        #expect(diverse.recommendations.allSatisfy { !heard.contains($0.item) })
        let before = try Self.meanPairwiseSimilarity(plain, service: service)
        let after = try Self.meanPairwiseSimilarity(diverse, service: service)
        #expect(after < before, "mean pairwise similarity \(before) → \(after)")
    }

    @Test(arguments: ["2.0", "-0.1", "1.5", "lots", "nan"])
    func diversityOutsideZeroToOneIs422NamingIt(value: String) async throws {
        let f = try ServerFixture()
        let user = f.live.snapshot.recommendations.users[0]
        let reply = try await f.client.get("/v1/users/\(user)/recommendations?k=5&diversity=\(value)")
        #expect(reply.status == 422, "\(value): \(reply.text)")
        #expect(reply.json["field"] as? String == "diversity", "\(reply.text)")
        #expect((reply.json["detail"] as? String ?? "").contains(value == "lots" || value == "nan" ? "must be a number" : "must be between 0.0 and 1.0"), "\(reply.text)")
    }

    /// The library refuses a λ out of range itself (the CLI and other front ends go through it too).
    @Test func theServiceRefusesALambdaOutOfRangeAsInvalid() throws {
        let f = try ServerFixture()
        let service = f.live.snapshot.recommendations
        var request = RecommendationRequest(user: service.users[0], count: 5)
        request.diversity = 1.5
        #expect(throws: ServingError(field: "diversity", detail: "the diversity λ must lie between 0 and 1 (0: no re-ranking), got 1.5")) {
            try service.recommend(request)
        }
    }
}
