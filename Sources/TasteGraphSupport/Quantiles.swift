/// Five-number-plus summary of a distribution: linear-interpolation quantiles (numpy's default).
public struct Quantiles: Codable, Sendable, Equatable {
    public let min: Double
    public let p25: Double
    public let median: Double
    public let p75: Double
    public let p90: Double
    public let p99: Double
    public let max: Double
    public let mean: Double

    /// - Precondition: `values` is not empty.
    public init(_ values: [Double]) {
        precondition(!values.isEmpty)
        let sorted = values.sorted()
        func q(_ p: Double) -> Double {
            let position = p * Double(sorted.count - 1)
            let low = Int(position.rounded(.down))
            let high = Swift.min(low + 1, sorted.count - 1)
            return sorted[low] + (sorted[high] - sorted[low]) * (position - Double(low))
        }
        min = sorted[0]
        p25 = q(0.25)
        median = q(0.5)
        p75 = q(0.75)
        p90 = q(0.9)
        p99 = q(0.99)
        max = sorted[sorted.count - 1]
        mean = values.reduce(0, +) / Double(values.count)
    }
}
