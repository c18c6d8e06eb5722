import Foundation
import TasteGraphRecommend
import TasteGraphServing
import TasteGraphStore
import TestSupport
import Testing

/// The serving library answers in external ids, applies the cold-start policy (threshold as a setting) and
/// the business rules, and explains on request; the CLI and the server both go through it.
@Suite struct RecommendationServiceTests {
    /// The bundled sample in a fresh store, and an item-KNN model file fitted on all of its listens.
    static func sample(_ dir: TemporaryDirectory) throws -> (GraphStore, model: String) {
        let store = try GraphStore(path: dir.file("s.sqlite"))
        let root = SharedData.packageRoot + "/GraphData"
        _ = try TasteProfileImporter(store: store).importTriplets(path: root + "/triplets.tsv", metadata: root + "/song_data.csv")
        let catalog = try store.catalog()
        let data = try FitData(userCount: catalog.userCount, itemCount: catalog.itemCount, train: try store.listens())
        let identity = ModelIdentity(userIDs: catalog.userExternalIDs, itemIDs: catalog.itemExternalIDs, dataFingerprint: try store.dataFingerprint())
        let model = dir.file("knn.tgm")
        try ItemKNNRecommender.fit(data, identity: identity).save(to: model)
        return (store, model)
    }

    @Test func knownUsersGetUnheardPersonalItemsAndUnknownOnesTheMix() throws {
        let dir = TemporaryDirectory()
        let (store, model) = try Self.sample(dir)
        let service = try RecommendationService(store: store, modelPath: model, explanations: true)
        let catalog = service.catalog
        let listens = try store.listens()
        let user = catalog.userExternalIDs[0]
        let heard = Set((0..<listens.count).filter { listens.users[$0] == 0 }.map { catalog.itemExternalIDs[Int(listens.items[$0])] })
        var request = RecommendationRequest(user: user, count: 10)
        request.explain = true
        let answer = try service.recommend(request)
        #expect(!answer.coldStart)
        #expect(answer.recommendations.count == 10)
        #expect(answer.recommendations.allSatisfy { !heard.contains($0.item) })
        #expect(zip(answer.recommendations, answer.recommendations.dropFirst()).allSatisfy { $0.score >= $1.score })
        #expect(answer.recommendations.allSatisfy { ($0.because ?? []).allSatisfy { heard.contains($0.item) } })
        #expect(answer.recommendations.contains { !($0.because ?? []).isEmpty })
        #expect(answer.model.kind == "itemknn" && answer.model.version.count == 16)
        let stranger = try service.recommend(RecommendationRequest(user: "nobody", count: 5))
        #expect(stranger.coldStart && stranger.recommendations.count == 5)
        #expect(stranger.recommendations.allSatisfy { $0.because == nil })
    }

    /// The cold-start threshold is a setting: a policy demanding more listens than a user has sends them to
    /// the mix.
    @Test func theColdStartThresholdIsASetting() throws {
        let dir = TemporaryDirectory()
        let (store, model) = try Self.sample(dir)
        let user = try store.catalog().userExternalIDs[0]
        let strict = try RecommendationService(store: store, modelPath: model, policy: ColdStartPolicy(minimumListens: 10_000))
        #expect(try strict.recommend(RecommendationRequest(user: user, count: 3)).coldStart)
        let lenient = try RecommendationService(store: store, modelPath: model, policy: ColdStartPolicy(minimumListens: 1))
        #expect(try !lenient.recommend(RecommendationRequest(user: user, count: 3)).coldStart)
    }

    @Test func businessRulesAndBadRequests() throws {
        let dir = TemporaryDirectory()
        let (store, model) = try Self.sample(dir)
        let service = try RecommendationService(store: store, modelPath: model)
        let user = service.catalog.userExternalIDs[1]
        var request = RecommendationRequest(user: user, count: 20)
        request.maxPerArtist = 1
        let capped = try service.recommend(request)
        #expect(Set(capped.recommendations.map(\.artist)).count == capped.recommendations.count)
        let top = try service.recommend(RecommendationRequest(user: user, count: 1)).recommendations[0]
        request = RecommendationRequest(user: user, count: 20)
        request.excludedArtists = [top.artist]
        #expect(try service.recommend(request).recommendations.allSatisfy { $0.artist != top.artist })
        request.excludedArtists = ["No Such Artist Anywhere"]
        #expect(throws: ServingError.self) { try service.recommend(request) }
        var explain = RecommendationRequest(user: user, count: 3)
        explain.explain = true
        #expect(throws: ServingError(field: "explain", detail: "this service was loaded without explanations", kind: .unavailable)) { try service.recommend(explain) }
        #expect(throws: ServingError.self) { try service.recommend(RecommendationRequest(user: user, count: 0)) }
    }
}
