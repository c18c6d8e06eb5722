import TasteGraphSupport
import Foundation

/// One value a setting can take in a search: what goes into a model's JSON settings.
public enum SettingValue: Sendable, Equatable, CustomStringConvertible {
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)

    /// The value as `JSONSerialization` writes it.
    public var json: Any {
        switch self {
        case let .bool(value): value
        case let .int(value): value
        case let .double(value): value
        case let .string(value): value
        }
    }

    public var description: String {
        switch self {
        case let .bool(value): "\(value)"
        case let .int(value): "\(value)"
        case let .double(value): "\(value)"
        case let .string(value): value
        }
    }
}

/// One tuned setting and the range it is drawn from.
///
/// `path` names the setting in the model's JSON settings: `["lambda"]` for EASE, `["training", "learningRate"]`
/// for the GCN's nested settings.
public struct SearchDimension: Sendable {
    public enum Range: Sendable {
        /// exp(uniform(log lo, log hi)): for scales (λ, learning rates), where a factor matters, not a difference.
        case logUniform(Double, Double)
        case uniform(Double, Double)
        /// An integer in lo…hi, log-uniform when `log` (neighbour counts).
        case integer(Int, Int, log: Bool)
        /// One of the listed values, equally likely.
        case choice([SettingValue])
    }

    public let path: [String]
    public let range: Range

    public init(_ path: String..., range: Range) {
        self.init(path: path, range: range)
    }

    public init(path: [String], range: Range) {
        self.path = path
        self.range = range
    }

    /// `path` joined with dots, as the README and `--json` name it.
    public var name: String { path.joined(separator: ".") }

    /// A draw from the range.
    public func sample(_ random: inout SplitMix64) -> SettingValue {
        switch range {
        case let .logUniform(lo, hi):
            return .double(Self.rounded(exp(log(lo) + random.nextUnit() * (log(hi) - log(lo)))))
        case let .uniform(lo, hi):
            return .double(Self.rounded(lo + random.nextUnit() * (hi - lo)))
        case let .integer(lo, hi, useLog):
            if useLog {
                let value = exp(log(Double(lo)) + random.nextUnit() * (log(Double(hi) + 1) - log(Double(lo))))
                return .int(min(hi, max(lo, Int(value))))
            }
            return .int(lo + random.nextInt(below: hi - lo + 1))
        case let .choice(values):
            return values[random.nextInt(below: values.count)]
        }
    }

    /// The range in words, for `tune --help` and the README.
    public var rangeDescription: String {
        switch range {
        case let .logUniform(lo, hi): "log-uniform [\(lo), \(hi)]"
        case let .uniform(lo, hi): "uniform [\(lo), \(hi)]"
        case let .integer(lo, hi, useLog): "integer \(lo)…\(hi)\(useLog ? ", log-uniform" : "")"
        case let .choice(values): "one of " + values.map(\.description).joined(separator: ", ")
        }
    }

    /// Four significant digits: a tuned λ of 287.3 reads better than 287.31946… and fits as well.
    static func rounded(_ value: Double) -> Double {
        guard value != 0, value.isFinite else { return value }
        let scale = pow(10, 3 - floor(log10(abs(value))))
        return (value * scale).rounded() / scale
    }
}

/// Each model's documented search ranges for `tastegraph tune` (the README lists them). A model with no
/// dimensions (popularity) has nothing to tune: its one trial is its defaults.
///
/// The ranges bracket the defaults and the values the literature reports for these models on data of
/// lastfm-2k's size; they were fixed before any tuning run and are not narrowed by looking at test figures.
public enum SearchSpace {
    public static func of(_ kind: ModelKind) -> [SearchDimension] {
        switch kind.rawValue {
        case "ease":
            [SearchDimension("lambda", range: .logUniform(10, 5000)), SearchDimension("binary", range: .choice([.bool(true), .bool(false)]))]
        case "rp3beta":
            [SearchDimension("alpha", range: .uniform(0.2, 1.5)), SearchDimension("beta", range: .uniform(0, 0.8)),
             SearchDimension("neighbors", range: .integer(50, 1000, log: true))]
        case "itemknn":
            [SearchDimension("neighbors", range: .integer(10, 500, log: true)),
             SearchDimension("weighting", range: .choice([.string("log1p"), .string("raw")]))]
        case "userknn":
            [SearchDimension("neighbors", range: .integer(10, 500, log: true)), SearchDimension("shrink", range: .uniform(0, 100))]
        case "als":
            [SearchDimension("factors", range: .choice([.int(32), .int(64), .int(128)])),
             SearchDimension("regularization", range: .logUniform(0.005, 1)),
             SearchDimension("bm25K1", range: .logUniform(10, 1000)), SearchDimension("bm25B", range: .uniform(0.3, 1))]
        case "svd":
            [SearchDimension("factors", range: .choice([.int(20), .int(50), .int(100)])),
             SearchDimension("learningRate", range: .logUniform(0.002, 0.02)),
             SearchDimension("regularization", range: .logUniform(0.005, 0.2))]
        case "coclustering":
            [SearchDimension("userClusters", range: .integer(2, 20, log: false)), SearchDimension("itemClusters", range: .integer(2, 20, log: false))]
        case "content":
            [SearchDimension("binary", range: .choice([.bool(false), .bool(true)]))]
        case "gcn":
            [SearchDimension("training", "learningRate", range: .logUniform(0.003, 0.03)),
             SearchDimension("training", "weightDecay", range: .logUniform(0.1, 2)),
             SearchDimension("model", "bprWeight", range: .uniform(1, 10)),
             SearchDimension("model", "friendWeight", range: .choice([.double(0), .double(0.25), .double(0.5), .double(1)])),
             SearchDimension("model", "tagWeight", range: .choice([.double(0), .double(1), .double(2), .double(4)]))]
        case "gcn-ease":
            // The GCN member's ranges; the blend weight is chosen on validation inside every fit.
            of(.gcn).map { SearchDimension(path: ["gcn"] + $0.path, range: $0.range) }
        default:
            []
        }
    }
}
