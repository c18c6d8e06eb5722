import Foundation
import TasteGraphCore
import TasteGraphRecommend
import TasteGraphSupport
import Testing

/// EASE's closed form, checked by the identity it must satisfy rather than by a second implementation.
@Suite struct EASETests {
    /// 40 users × 12 items, seeded; each user hears 3–6 items.
    static func data() throws -> (FitData, ModelIdentity) {
        var rng = SplitMix64(seed: 11)
        var listens = ListenTable()
        for user in 0..<40 {
            var items = Set<Int>()
            let count = 3 + rng.nextInt(below: 4)
            while items.count < count { items.insert(rng.nextInt(below: 12)) }
            for item in items.sorted() { listens.append(user: Int32(user), item: Int32(item), plays: Float(1 + rng.nextInt(below: 9))) }
        }
        let identity = ModelIdentity(userIDs: (0..<40).map { "u\($0)" }, itemIDs: (0..<12).map { "i\($0)" }, dataFingerprint: "test")
        return (try FitData(userCount: 40, itemCount: 12, train: listens), identity)
    }

    /// B_jj = 0, and off the diagonal ((XᵀX + λI)·B)_ij = (XᵀX)_ij (binary X); scores are x_u·B.
    /// Tolerance: 1e-4 of the largest |G| (float32 Cholesky; BLAS builds differ in the last bits).
    @Test func theWeightsSatisfyTheClosedFormsIdentity() throws {
        let (data, identity) = try Self.data()
        var config = EASERecommender.Config()
        config.lambda = 5
        let model = try EASERecommender.fit(data, identity: identity, config: config)
        let n = 12
        var x = [[Double]](repeating: [Double](repeating: 0, count: n), count: 40)
        for e in 0..<data.train.count { x[Int(data.train.users[e])][Int(data.train.items[e])] = 1 }
        var gram = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for row in x { for i in 0..<n where row[i] > 0 { for j in 0..<n where row[j] > 0 { gram[i][j] += 1 } } }
        let b = (0..<n).map { j in (0..<n).map { i in Double(model.weight(from: ItemIndex(j), to: ItemIndex(i))) } }
        let tolerance = 1e-4 * (gram.flatMap { $0 }.max() ?? 1)
        for j in 0..<n { #expect(b[j][j] == 0) }
        for i in 0..<n {
            for j in 0..<n where i != j {
                let product = (0..<n).reduce(0.0) { $0 + (gram[i][$1] + ($1 == i ? 5 : 0)) * b[$1][j] }
                #expect(abs(product - gram[i][j]) < tolerance, "(\(i), \(j)): \(product) vs \(gram[i][j])")
            }
        }
        for user in [0, 17, 39] {
            let scores = model.scores(user: UserIndex(user))
            for i in 0..<n {
                let expected = (0..<n).reduce(0.0) { $0 + x[user][$1] * b[$1][i] }
                #expect(abs(Double(scores[i]) - expected) < 1e-5)
            }
        }
        // A larger λ shrinks every weight toward 0.
        config.lambda = 500
        let stiff = try EASERecommender.fit(data, identity: identity, config: config)
        let norm = { (m: EASERecommender) in (0..<n).flatMap { j in (0..<n).map { i in abs(Double(m.weight(from: ItemIndex(j), to: ItemIndex(i)))) } }.reduce(0, +) }
        #expect(norm(stiff) < norm(model))
    }

    @Test func aCatalogTooLargeOrABadLambdaIsRefusedWithTheReason() throws {
        let (data, identity) = try Self.data()
        var config = EASERecommender.Config()
        config.maximumItems = 10
        #expect(throws: ModelFitError.self) { try EASERecommender.fit(data, identity: identity, config: config) }
        do {
            _ = try EASERecommender.fit(data, identity: identity, config: config)
        } catch let error as ModelFitError {
            #expect(error.message.contains("maximumItems = 10"))
        }
        config = EASERecommender.Config()
        config.lambda = 0
        #expect(throws: ModelFitError.self) { try EASERecommender.fit(data, identity: identity, config: config) }
    }
}
