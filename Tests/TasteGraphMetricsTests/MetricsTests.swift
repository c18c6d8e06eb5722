import Foundation
import TasteGraphMetrics
import Testing

@Suite struct RankingMetricsTests {
    /// Hand computation: ranked [7, 3, 9, 1], relevant {3, 1, 5}, K = 4.
    /// Hits at ranks 2 and 4. Recall 2/3; precision 2/4; DCG = 1/log2(3) + 1/log2(5);
    /// IDCG over min(3, 4) = 3 hits = 1 + 1/log2(3) + 1/log2(4); AP = (1/2 + 2/4) / 3.
    @Test func handComputedExample() {
        let s = RankingScores(ranked: [7, 3, 9, 1], relevant: [3, 1, 5], k: 4)
        #expect(abs(s.recall - 2.0 / 3) < 1e-12)
        #expect(abs(s.precision - 0.5) < 1e-12)
        #expect(s.hitRate == 1)
        let dcg = 1 / log2(3.0) + 1 / log2(5.0)
        let idcg = 1 + 1 / log2(3.0) + 1 / log2(4.0)
        #expect(abs(s.ndcg - dcg / idcg) < 1e-12)
        #expect(abs(s.map - (0.5 + 0.5) / 3) < 1e-12)
        // F1 = 2·P·R / (P + R) = 2 · 1/2 · 2/3 / (1/2 + 2/3) = 4/7.
        #expect(abs(s.f1 - 4.0 / 7) < 1e-12)
        #expect(RankingScores(ranked: [1], relevant: [2], k: 1).f1 == 0)
    }

    /// The cold-start slice: recall over held-out items without train listeners, users without one left out.
    @Test func coldStartSliceRecall() {
        // 3 users, 25 items; items 20…24 have no train listeners (cold); everyone heard item 0 (excluded).
        // User 0 holds out {1, 20}: cold {20}, scored highest → 1. User 1 holds out {20, 21}: 20 ranks first,
        // 21 scores lowest of the 24 candidates (rank 24 > 20) → 1/2. User 2 holds out {2}: not in the slice.
        let trainListeners = (0..<25).map { $0 >= 20 ? 0 : 1 }
        let heldOut = HeldOut(
            relevant: [[1, 20], [20, 21], [2]], excluded: [[0], [0], [0]], trainListeners: trainListeners, userCount: 3,
            regression: [])
        func score(_ user: Int, _ item: Int) -> Float {
            if user == 1 && item == 21 { return -1 }
            if item == 20 && user < 2 { return 100 }
            return Float(item % 7)
        }
        let report = Evaluation.evaluate(
            heldOut: heldOut, itemCount: 25,
            scoreUsers: { users, out in for (row, user) in users.enumerated() { for i in 0..<25 { out[row * 25 + i] = score(user, i) } } },
            predict: nil)
        #expect(report.coldUsers == 2)
        #expect(abs(report.coldRecall20! - (1 + 0.5) / 2) < 1e-12)
        let none = Evaluation.evaluate(
            heldOut: HeldOut(relevant: [[1]], excluded: [[]], trainListeners: [1, 1], userCount: 1, regression: []), itemCount: 2,
            scoreUsers: { _, out in out[0] = 1; out[1] = 0 }, predict: nil)
        #expect(none.coldRecall20 == nil && none.coldUsers == 0)
    }

    /// Fewer relevant items than K: IDCG and MAP normalize by |relevant|, so a perfect list scores 1.
    @Test func fewerRelevantThanK() {
        let perfect = RankingScores(ranked: [4, 8, 1, 2, 3], relevant: [4, 8], k: 20)
        #expect(perfect.recall == 1 && abs(perfect.ndcg - 1) < 1e-12 && abs(perfect.map - 1) < 1e-12)
        #expect(abs(perfect.precision - 2.0 / 20) < 1e-12)
        let miss = RankingScores(ranked: [1, 2], relevant: [9], k: 20)
        #expect(miss.recall == 0 && miss.ndcg == 0 && miss.hitRate == 0 && miss.map == 0)
    }

    /// Only the first K ranks count.
    @Test func cutAtK() {
        let s = RankingScores(ranked: [1, 2, 3], relevant: [3], k: 2)
        #expect(s.recall == 0)
    }

    /// Ties go to the lower item index; excluded (heard) items never appear.
    @Test func topKBreaksTiesByItemIndexAndExcludes() {
        let scores: [Float] = [0.5, 0.9, 0.9, 0.1, 0.9, 0.7]
        let top = scores.withUnsafeBufferPointer { Evaluation.topK($0, excluding: [2], k: 3) }
        #expect(top == [1, 4, 5])
    }

    /// Coverage and novelty over a two-user example with fixed scores.
    @Test func coverageNoveltyAndRegression() {
        // 2 users, 4 items. User 0 heard item 0 and holds out item 1; user 1 heard item 3, holds out 2.
        let heldOut = HeldOut(
            relevant: [[1], [2]], excluded: [[0], [3]], trainListeners: [1, 0, 4, 1], userCount: 8,
            regression: [(0, 1, 1.0), (1, 2, 3.0)])
        let scores: [[Float]] = [[9, 5, 1, 0], [0, 2, 7, 8]]
        let report = Evaluation.evaluate(
            heldOut: heldOut, itemCount: 4,
            scoreUsers: { users, out in for (row, user) in users.enumerated() { for i in 0..<4 { out[row * 4 + i] = scores[user][i] } } },
            predict: { user, _ in user == 0 ? 1.5 : 2.0 })
        // Top-20 lists (all unexcluded items): user 0 → [1, 2, 3], user 1 → [2, 1, 0]: every item once.
        #expect(report.recall20 == 1 && report.users == 2)
        #expect(report.coverage20 == 1)
        // Novelty: mean of −log2(max(listeners, 1) / 8) over the 6 slots.
        let n: (Double) -> Double = { -log2($0 / 8) }
        let expected = (n(1) + n(4) + n(1) + n(4) + n(1) + n(1)) / 6
        #expect(abs(report.novelty20 - expected) < 1e-12)
        #expect(abs(report.mae! - 0.75) < 1e-6)  // |1.5 − 1| and |2 − 3|
        #expect(abs(report.rmse! - ((0.25 + 1) / 2).squareRoot()) < 1e-6)
    }
}

@Suite struct ClusteringMetricsTests {
    @Test func identicalPartitionsUpToRelabelling() {
        #expect(ClusteringAgreement.adjustedRandIndex([0, 0, 1, 1, 2], [2, 2, 0, 0, 1]) == 1)
        #expect(abs(ClusteringAgreement.normalizedMutualInformation([0, 0, 1, 1, 2], [2, 2, 0, 0, 1]) - 1) < 1e-12)
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// A report from before F1@20 and the cold-start slice (an older checkpoint's header) still decodes.
@Suite struct EvaluationReportDecodingTests {
    @Test func aReportWithoutTheNewerKeysDecodes() throws {
        let old = #"{"recall@10":0.1,"recall@20":0.2,"ndcg@10":0.3,"ndcg@20":0.4,"precision@20":0.05,"map@20":0.06,"hitrate@20":0.7,"coverage@20":0.08,"novelty@20":4.5,"mae":0.6,"users":12}"#
        let report = try JSONDecoder().decode(EvaluationReport.self, from: Data(old.utf8))
        #expect(report.recall20 == 0.2 && report.f120 == 0 && report.coldRecall20 == nil && report.coldUsers == 0 && report.users == 12)
        #expect(report.mae == 0.6 && report.rmse == nil)
        // And a current one round-trips.
        var current = report
        current.f120 = 0.09
        current.coldRecall20 = 0.01
        current.coldUsers = 3
        #expect(try JSONDecoder().decode(EvaluationReport.self, from: JSONEncoder().encode(current)) == current)
    }
}

/// `HeldOut.sampled`: the validation sample that keeps early stopping affordable at a million users.
@Suite struct HeldOutSampleTests {
    static func heldOut(users: Int) -> HeldOut {
        HeldOut(
            relevant: (0..<users).map { $0 % 5 == 0 ? [] : [($0 % 7) + 1] },
            excluded: (0..<users).map { [Int32($0 % 3)] }, trainListeners: Array(repeating: 1, count: 10), userCount: users,
            regression: (0..<users).map { (user: $0, item: 1, target: 1) })
    }

    @Test func aSeededSubsetOfTheEvaluatedUsers() {
        let full = Self.heldOut(users: 1_000)
        #expect(full.evaluatedUsers == 800)
        let sample = full.sampled(users: 100, seed: 4)
        #expect(sample.evaluatedUsers == 100)
        let kept = sample.relevant.indices.filter { !sample.relevant[$0].isEmpty }
        #expect(kept.allSatisfy { sample.relevant[$0] == full.relevant[$0] && sample.excluded[$0] == full.excluded[$0] })
        #expect(Set(sample.regression.map(\.user)) == Set(kept))
        #expect(sample.userCount == full.userCount && sample.trainListeners == full.trainListeners)
        let again = full.sampled(users: 100, seed: 4)
        #expect(again.relevant == sample.relevant)
        let other = full.sampled(users: 100, seed: 5)
        #expect(other.relevant != sample.relevant)
        // Spread over the users, not their first hundred.
        #expect(kept.max()! > 500)
    }

    @Test func aSampleAtLeastAsLargeIsTheWholeSet() {
        let full = Self.heldOut(users: 50)
        #expect(full.sampled(users: 40, seed: 1).relevant == full.relevant)
        #expect(full.sampled(users: 1_000, seed: 1).excluded == full.excluded)
    }
}
