import Foundation
import TasteGraphCore
import TasteGraphFeatures
import TasteGraphGraph
import TasteGraphModel
import TasteGraphRecommend
import TasteGraphServing
import TasteGraphStore
import TestSupport
import Testing

/// Item-to-item neighbours: by text (content) and by listening (the model's item vectors, or co-listening).
@Suite struct SimilarItemsServiceTests {
    /// Four songs: S1 and S2 share words, release and artist but no listener; S1 and S3 share two listeners
    /// and no words; S4 shares nothing with S1.
    static func tiny(_ dir: TemporaryDirectory) throws -> GraphStore {
        let store = try GraphStore(path: dir.file("tiny.sqlite"))
        let triplets = dir.write("t.tsv", "u1\tS1\t5\nu1\tS3\t4\nu2\tS1\t3\nu2\tS3\t6\nu3\tS2\t2\nu3\tS4\t5\nu4\tS4\t1\n")
        let metadata = dir.write("m.csv", """
            song_id,title,release,artist_name,year
            S1,Blue Moon Rising,Night Sky,Luna Band,2001
            S2,Blue Moon Falling,Night Sky,Luna Band,2001
            S3,Red Desert Sun,Heat,Sol Trio,1999
            S4,Green Forest Walk,Trees,Oak Duo,2010

            """)
        _ = try TasteProfileImporter(store: store).importTriplets(path: triplets, metadata: metadata)
        return store
    }

    @Test func textFindsTheNamesakeAndListensTheCoListenedSong() throws {
        let dir = TemporaryDirectory()
        let service = try SimilarItemsService(store: try Self.tiny(dir))
        let text = try service.similar(SimilarItemsRequest(item: "S1", count: 3, by: .text))
        #expect(text.source == "hashing-256" && text.model == nil)
        #expect(text.similar.first?.item == "S2", "\(text.similar)")
        #expect(!text.similar.contains { $0.item == "S1" })
        #expect(text.title == "Blue Moon Rising" && text.similar.first?.artist == "Luna Band")
        // Co-listening: only S3 shares listeners with S1, so it is the whole list.
        let listens = try service.similar(SimilarItemsRequest(item: "S1", count: 3, by: .listens))
        #expect(listens.source == "co-listening")
        #expect(listens.similar.map(\.item) == ["S3"])
        let (l5, l3, l4, l6) = (log1p(5.0), log1p(3.0), log1p(4.0), log1p(6.0))
        let cosine = (l5 * l4 + l3 * l6) / ((l5 * l5 + l3 * l3).squareRoot() * (l4 * l4 + l6 * l6).squareRoot())
        #expect(abs(listens.similar[0].score - cosine) < 1e-5, "\(listens.similar[0].score) vs \(cosine)")
    }

    @Test func badRequestsAreRefused() throws {
        let dir = TemporaryDirectory()
        let service = try SimilarItemsService(store: try Self.tiny(dir), bases: [.text])
        #expect(throws: ServingError(field: "item", detail: "no item with id 'nope' in the store", kind: .notFound)) {
            try service.similar(SimilarItemsRequest(item: "nope"))
        }
        #expect(throws: ServingError.self) { try service.similar(SimilarItemsRequest(item: "S1", count: 0, by: .text)) }
        #expect(throws: ServingError(field: "by", detail: "this service was loaded without listening vectors", kind: .unavailable)) {
            try service.similar(SimilarItemsRequest(item: "S1", by: .listens))
        }
    }

    /// Each listed score is the cosine of the two vectors, and no unlisted item beats the last one listed
    /// (what a full sort would give), within a float tolerance.
    static func expectTopCosines(_ response: SimilarItemsResponse, query: Int, vectors: [[Float]], catalog: Catalog, count: Int) {
        func cosine(_ a: [Float], _ b: [Float]) -> Double {
            let dot = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let na = a.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            let nb = b.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            return na > 0 && nb > 0 ? dot / (na * nb) : -.infinity
        }
        let reference = vectors.indices.map { $0 == query ? -Double.infinity : cosine(vectors[query], vectors[$0]) }
        #expect(response.similar.count == count)
        for entry in response.similar {
            let index = catalog.itemExternalIDs.firstIndex(of: entry.item)!
            #expect(abs(entry.score - reference[index]) < 1e-4, "\(entry.item): \(entry.score) vs \(reference[index])")
        }
        let listed = Set(response.similar.map(\.item))
        let best = reference.indices.filter { !listed.contains(catalog.itemExternalIDs[$0]) }.map { reference[$0] }.max() ?? -.infinity
        #expect(best <= response.similar.last!.score + 1e-4, "an unlisted item scores \(best)")
        #expect(zip(response.similar, response.similar.dropFirst()).allSatisfy { $0.score >= $1.score })
    }

    /// On the sample: text neighbours are the cosine of the hashing rows without the popularity column,
    /// ALS's of its item factors; item-KNN has no item vectors and falls back to co-listening.
    @Test func neighboursAreTheTopCosinesOfEachSource() throws {
        let dir = TemporaryDirectory()
        let (store, knn) = try RecommendationServiceTests.sample(dir)
        let catalog = try store.catalog()
        var config = ALSConfig()
        config.factors = 8
        config.iterations = 3
        config.threads = 1
        let data = try FitData(userCount: catalog.userCount, itemCount: catalog.itemCount, train: try store.listens())
        let identity = ModelIdentity(userIDs: catalog.userExternalIDs, itemIDs: catalog.itemExternalIDs, dataFingerprint: try store.dataFingerprint())
        let als = try ALSRecommender.fit(data, identity: identity, config: config)
        let alsPath = dir.file("als.tgm")
        try als.save(to: alsPath)

        let query = 17
        let item = catalog.itemExternalIDs[query]
        let service = try SimilarItemsService(store: store, modelPath: alsPath)
        let text = try service.similar(SimilarItemsRequest(item: item, count: 10, by: .text))
        let rows = HashingEmbedder(dimension: 256).embed(ItemFeatures.texts(catalog)).dense()
        Self.expectTopCosines(text, query: query, vectors: (0..<catalog.itemCount).map { Array(rows[($0 * 256)..<(($0 + 1) * 256)]) },
                              catalog: catalog, count: 10)

        let listens = try service.similar(SimilarItemsRequest(item: item, count: 10, by: .listens))
        #expect(listens.source == "als-item-factors" && listens.model?.kind == "als")
        let f = config.factors
        Self.expectTopCosines(listens, query: query, vectors: (0..<catalog.itemCount).map { Array(als.itemFactors[($0 * f)..<(($0 + 1) * f)]) },
                              catalog: catalog, count: 10)

        let fallback = try SimilarItemsService(store: store, modelPath: knn, bases: [.listens])
        let colistening = try fallback.similar(SimilarItemsRequest(item: item, count: 5, by: .listens))
        #expect(colistening.source == "co-listening" && colistening.model == nil)
        #expect(colistening.similar.count == 5 && colistening.similar.allSatisfy { $0.score > 0 && $0.item != item })
    }

    /// The GCN's item rows of Z (rows U..U+I−1) answer `.listens`; its recorded features answer `.text`.
    @Test func theGCNsItemEmbeddingsAndRecordedFeaturesAnswer() throws {
        let dir = TemporaryDirectory()
        let store = try Self.tiny(dir)
        let catalog = try store.catalog()
        let identity = ModelIdentity(userIDs: catalog.userExternalIDs, itemIDs: catalog.itemExternalIDs, dataFingerprint: try store.dataFingerprint())
        let features = ItemFeatures.matrix(catalog, embedder: HashingEmbedder(dimension: 32))
        var model = GCNConfig()
        model.hidden = 4
        var training = TrainingConfig()
        training.epochs = 4
        training.seed = 1
        let split = InteractionSplit.carvingValidation(train: try store.listens(), test: ListenTable(), fraction: 0.3, seed: 1)
        let gcn = try GCNRecommender.fit(split: split, identity: identity, features: features, embedderName: "hashing-32",
                                         model: model, training: training).recommender
        let path = dir.file("gcn.ckpt")
        try gcn.save(to: path)

        let service = try SimilarItemsService(store: store, modelPath: path)
        let listens = try service.similar(SimilarItemsRequest(item: "S1", count: 3, by: .listens))
        #expect(listens.source == "gcn-embeddings" && listens.model?.kind == "gcn")
        let z = gcn.checkpoint.embeddings
        let h = model.hidden
        let users = catalog.userCount
        Self.expectTopCosines(listens, query: catalog.itemExternalIDs.firstIndex(of: "S1")!, vectors: (0..<catalog.itemCount).map { Array(z[((users + $0) * h)..<((users + $0 + 1) * h)]) },
                              catalog: catalog, count: 3)
        #expect(try service.similar(SimilarItemsRequest(item: "S1", count: 1, by: .text)).source == "hashing-32")
    }
}
