import Foundation
import TasteGraphMetrics
import TasteGraphRecommend
import Testing

/// `TrainingSummary`, the JSON that `train --json` and `make bench-train` print.
@Suite struct TrainingSummaryTests {
    let summary: TrainingSummary = {
        var metrics = EvaluationReport()
        metrics.recall20 = 0.25
        metrics.ndcg20 = 0.125
        metrics.users = 7
        metrics.mae = 0.5
        return TrainingSummary(metrics: metrics, epochs: 40, bestEpoch: 31, secondsPerEpoch: 0.75, secondsToBestEpoch: 26.5,
                               trainSeconds: 33.25, peakRSSMiB: 512)
    }()

    @Test func encodesOneFlatObjectWithTheMetricAndTimingKeys() throws {
        let object = try summary.jsonObject()
        #expect(object["recall@20"] as? Double == 0.25)
        #expect(object["ndcg@20"] as? Double == 0.125)
        #expect(object["users"] as? Int == 7)
        #expect(object["mae"] as? Double == 0.5)
        #expect(object["rmse"] == nil)
        #expect(object["epochs"] as? Int == 40)
        #expect(object["best_epoch"] as? Int == 31)
        #expect(object["seconds_per_epoch"] as? Double == 0.75)
        #expect(object["seconds_to_best_epoch"] as? Double == 26.5)
        #expect(object["train_seconds"] as? Double == 33.25)
        #expect(object["peak_rss_mib"] as? Double == 512)
        #expect(object["metrics"] == nil)
    }

    @Test func decodesWhatItEncodes() throws {
        let decoded = try JSONDecoder().decode(TrainingSummary.self, from: try JSONEncoder().encode(summary))
        #expect(decoded == summary)
    }
}
