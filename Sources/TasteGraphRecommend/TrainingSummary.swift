import Foundation
import TasteGraphMetrics
import TasteGraphModel
import TasteGraphSupport

/// What a GCN training run reports: the test metrics of the best epoch and how long training took.
/// `train --json` and `make bench-train` print it, each with a few keys of their own added.
///
/// Encoded flat, one JSON object: the `EvaluationReport` keys (`recall@20`, …) beside `epochs`,
/// `best_epoch`, `seconds_per_epoch`, `seconds_to_best_epoch`, `train_seconds` and `peak_rss_mib`.
public struct TrainingSummary: Codable, Sendable, Equatable {
    /// Test metrics of the best epoch (an empty report when there was no test set).
    public var metrics: EvaluationReport
    public var epochs: Int
    public var bestEpoch: Int
    /// Mean wall time of an epoch's optimization (validation excluded).
    public var secondsPerEpoch: Double
    /// Wall time until the end of the best epoch, validation included.
    public var secondsToBestEpoch: Double
    public var trainSeconds: Double
    /// The process's peak resident set size when the summary was made.
    public var peakRSSMiB: Double

    /// The summary of `result`, with the process's peak RSS now.
    public init(metrics: EvaluationReport, result: TrainingResult, peakRSSMiB: Double = ProcessStats.peakRSSMiB) {
        self.init(metrics: metrics, epochs: result.epochs, bestEpoch: result.bestEpoch, secondsPerEpoch: result.secondsPerEpoch,
                  secondsToBestEpoch: result.secondsToBest, trainSeconds: result.trainSeconds, peakRSSMiB: peakRSSMiB)
    }

    public init(
        metrics: EvaluationReport, epochs: Int, bestEpoch: Int, secondsPerEpoch: Double, secondsToBestEpoch: Double, trainSeconds: Double,
        peakRSSMiB: Double
    ) {
        self.metrics = metrics
        self.epochs = epochs
        self.bestEpoch = bestEpoch
        self.secondsPerEpoch = secondsPerEpoch
        self.secondsToBestEpoch = secondsToBestEpoch
        self.trainSeconds = trainSeconds
        self.peakRSSMiB = peakRSSMiB
    }

    enum CodingKeys: String, CodingKey {
        case epochs, bestEpoch = "best_epoch", secondsPerEpoch = "seconds_per_epoch"
        case secondsToBestEpoch = "seconds_to_best_epoch", trainSeconds = "train_seconds", peakRSSMiB = "peak_rss_mib"
    }

    public init(from decoder: any Decoder) throws {
        metrics = try EvaluationReport(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        epochs = try container.decode(Int.self, forKey: .epochs)
        bestEpoch = try container.decode(Int.self, forKey: .bestEpoch)
        secondsPerEpoch = try container.decode(Double.self, forKey: .secondsPerEpoch)
        secondsToBestEpoch = try container.decode(Double.self, forKey: .secondsToBestEpoch)
        trainSeconds = try container.decode(Double.self, forKey: .trainSeconds)
        peakRSSMiB = try container.decode(Double.self, forKey: .peakRSSMiB)
    }

    public func encode(to encoder: any Encoder) throws {
        try metrics.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(epochs, forKey: .epochs)
        try container.encode(bestEpoch, forKey: .bestEpoch)
        try container.encode(secondsPerEpoch, forKey: .secondsPerEpoch)
        try container.encode(secondsToBestEpoch, forKey: .secondsToBestEpoch)
        try container.encode(trainSeconds, forKey: .trainSeconds)
        try container.encode(peakRSSMiB, forKey: .peakRSSMiB)
    }

    /// The summary as a JSON object, for callers that add keys of their own before printing it.
    /// - Throws: `EncodingError` when a metric is not finite.
    public func jsonObject() throws -> [String: Any] {
        // The encoding is always a keyed container, so the cast holds.
        try JSONSerialization.jsonObject(with: try JSONEncoder().encode(self)) as! [String: Any]
    }
}
