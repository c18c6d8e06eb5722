import Foundation
import TasteGraphRecommend
import TasteGraphServing
import TasteGraphStore
import TestSupport
import Testing

/// `recommendAll` scores users in padded sgemm blocks and picks each row's list in place; its answers, scores
/// to the last bit included, must not depend on the block size, the thread count or which users share a run
/// (the Spark path scores partitions separately; OpenBLAS rounds a row by its place in the block, so the
/// lists are rescored exactly), and must be `recommend(_:)`'s lists.
@Suite struct BatchRecommendationsTests {
    /// The bundled sample and an ALS model (scores through one sgemm per block) fitted on all its listens.
    static func sample(_ dir: TemporaryDirectory) throws -> RecommendationService {
        let store = try GraphStore(path: dir.file("s.sqlite"))
        let root = SharedData.packageRoot + "/GraphData"
        _ = try TasteProfileImporter(store: store).importTriplets(path: root + "/triplets.tsv", metadata: root + "/song_data.csv")
        let catalog = try store.catalog()
        let data = try FitData(userCount: catalog.userCount, itemCount: catalog.itemCount, train: try store.listens())
        let identity = ModelIdentity(userIDs: catalog.userExternalIDs, itemIDs: catalog.itemExternalIDs, dataFingerprint: try store.dataFingerprint())
        var config = ALSConfig()
        config.factors = 16
        config.iterations = 4
        config.seed = 3
        let model = dir.file("als.tgm")
        try ALSRecommender.fit(data, identity: identity, config: config).save(to: model)
        return try RecommendationService(store: store, modelPath: model)
    }

    static func run(_ service: RecommendationService, _ users: [String], _ template: RecommendationRequest, _ settings: BatchSettings) throws -> [RecommendationResponse] {
        var answers: [RecommendationResponse] = []
        try service.recommendAll(users: users, template: template, settings: settings) { answers.append($0) }
        return answers
    }

    /// A list as item:score pairs, for failure messages.
    static func brief(_ answer: RecommendationResponse) -> String {
        answer.recommendations.map { "\($0.item):\($0.score)" }.joined(separator: " ")
    }

    @Test func answersDoNotDependOnBlocksThreadsOrCompany() throws {
        let dir = TemporaryDirectory()
        let service = try Self.sample(dir)
        let users = Array(service.users.prefix(300)) + ["nobody"] + Array(service.users.suffix(40))
        for cap in [0, 2] {  // without a cap: the tiled `topItems`; with one: the score block
        var template = RecommendationRequest(user: "", count: 15)
        template.maxPerArtist = cap
        let wide = try Self.run(service, users, template, BatchSettings(blockSize: 64, threads: 2))
        let narrow = try Self.run(service, users, template, BatchSettings(blockSize: 64, threads: 1))
        #expect(wide.map(\.user) == users)
        #expect(wide == narrow)
        // The same users in another company (a Spark partition): every 7th, in reverse.
        let some = Array(users.enumerated().filter { $0.offset % 7 == 3 }.map(\.element).reversed())
        let alone = try Self.run(service, some, template, BatchSettings(blockSize: 64, threads: 2))
        let byUser = Dictionary(uniqueKeysWithValues: wide.map { ($0.user, $0) })
        for (answer, user) in zip(alone, some) {
            #expect(answer == byUser[user]!, "cap \(cap) user \(user): \(Self.brief(answer)) vs \(Self.brief(byUser[user]!))")
        }
        #expect(wide.last { $0.user == "nobody" }?.coldStart == true)
        if cap > 0 {
            #expect(wide.filter { !$0.coldStart }.allSatisfy { Set($0.recommendations.map(\.artist)).count * 2 >= $0.recommendations.count })
        }
        }
    }

    /// The lists are `recommend(_:)`'s; a score may differ in its last bits (one row goes through another
    /// OpenBLAS kernel), so scores are compared within 1e-5 relative.
    @Test func listsAreTheSingleRequestLists() throws {
        let dir = TemporaryDirectory()
        let service = try Self.sample(dir)
        let users = Array(service.users.prefix(120)) + ["nobody"]
        let template = RecommendationRequest(user: "", count: 10)
        let batch = try Self.run(service, users, template, BatchSettings(blockSize: 32, threads: 2))
        for answer in batch {
            var request = template
            request.user = answer.user
            let single = try service.recommend(request)
            #expect(single.coldStart == answer.coldStart)
            #expect(single.recommendations.map(\.item) == answer.recommendations.map(\.item), "user \(answer.user)")
            for (a, b) in zip(single.recommendations, answer.recommendations) {
                #expect(abs(a.score - b.score) <= 1e-5 * max(1, abs(a.score)))
            }
        }
    }

    /// `render` runs on the workers, but what reaches `emit` is each answer rendered, in the users' order,
    /// the one-at-a-time (cold-start) answers included.
    @Test func renderedAnswersComeInOrderAndMatchThePlainOnes() throws {
        let dir = TemporaryDirectory()
        let service = try Self.sample(dir)
        let users = ["nobody"] + Array(service.users.prefix(150)) + ["nobody either"]
        let template = RecommendationRequest(user: "", count: 7)
        let settings = BatchSettings(blockSize: 16, threads: 2)
        let line: @Sendable (RecommendationResponse) -> String = { "\($0.user) \($0.coldStart) \(Self.brief($0))" }
        var rendered: [String] = []
        try service.recommendAll(users: users, template: template, settings: settings, render: line) { rendered.append($0) }
        #expect(rendered == (try Self.run(service, users, template, settings)).map(line))
        #expect(rendered.count == users.count)
        #expect(rendered.first!.hasPrefix("nobody true"))
        #expect(rendered.last!.hasPrefix("nobody either true"))
    }

    @Test func aBadTemplateFailsBeforeAnyAnswer() throws {
        let dir = TemporaryDirectory()
        let service = try Self.sample(dir)
        var template = RecommendationRequest(user: "", count: 5)
        template.excludedArtists = ["No Such Artist Anywhere"]
        var emitted = 0
        #expect(throws: ServingError.self) { try service.recommendAll(users: service.users, template: template) { _ in emitted += 1 } }
        #expect(emitted == 0)
        #expect(throws: ServingError.self) { try service.recommendAll(users: service.users, template: RecommendationRequest(user: "", count: 0)) { _ in emitted += 1 } }
        #expect(emitted == 0)
    }
}
