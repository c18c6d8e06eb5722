/// Walks over the directed item-transition graph: TasteGraph's own next-item model.
///
/// The graph: an edge a → b for every pair of plays in a training session with b at most `window`
/// positions after a, weighted 1 / distance (an adjacent pair weighs 1), repeats of the same item skipped.
/// Row-normalized, it is a Markov chain P (I × I) of "what is played soon after a".
///
/// A session's query vector q puts weight decay^(age) on each of its last `maxItems` items (age 0: the
/// latest). The score is one and two steps of the walk, the second damped by `secondStep`, and divided by
/// the item's in-degree to the power `popularityPenalty` (RP3β's correction, which keeps hubs from
/// crowding out the specific successors):
///
///     score = (q P + secondStep · (q P)_top P) ⊘ indegree^β
///
/// where (q P)_top keeps the `branching` largest entries of the first step.
/// Shapes: q (I), sparse; P stored as CSR (I, I). Complexity per query: O(maxItems · d̄ + branching · d̄),
/// d̄ the mean out-degree.
public struct TransitionWalks: RegisteredNextItemModel {
    public struct Settings: Codable, Sendable, Equatable {
        public var window = 2
        public var maxItems = 5
        public var decay = 0.5
        public var secondStep = 0.3
        public var branching = 20
        public var popularityPenalty = 0.3

        public init(window: Int = 2, maxItems: Int = 5, decay: Double = 0.5, secondStep: Double = 0.3, branching: Int = 20, popularityPenalty: Double = 0.3) {
            self.window = window
            self.maxItems = maxItems
            self.decay = decay
            self.secondStep = secondStep
            self.branching = branching
            self.popularityPenalty = popularityPenalty
        }
    }

    public static let modelKind = NextItemModelKind(rawValue: "transitions")
    public static let summary = "walks over the directed item-transition graph (TasteGraph's own next-item model)"
    public static let defaultSettings = Settings()

    public let itemCount: Int
    public let settings: Settings
    /// CSR of P: row a's successors are `targets[rowStart[a]..<rowStart[a + 1]]` with probabilities `weights`.
    let rowStart: [Int]
    let targets: [Int32]
    let weights: [Float]
    /// indegree^-β of each item (1 for an item never reached).
    let penalty: [Float]

    public static func fit(_ data: NextItemTrainingData, settings: Settings) throws -> TransitionWalks {
        guard settings.window >= 1, settings.maxItems >= 1, settings.branching >= 1,
              (0...1).contains(settings.decay), settings.secondStep >= 0, settings.popularityPenalty >= 0
        else { throw NextItemSettingsError(message: "transitions: window, maxItems, branching ≥ 1; decay in [0, 1]; secondStep, popularityPenalty ≥ 0") }
        let sessions = data.sessions
        // Edge weights by (from, to), accumulated per source row.
        var rows = [[Int32: Float]](repeating: [:], count: data.itemCount)
        var indegree = [Float](repeating: 0, count: data.itemCount)
        for s in 0..<sessions.count {
            let range = sessions.range(s)
            for a in range {
                let from = sessions.items[a]
                var distance = 0
                var b = a + 1
                while b < range.upperBound && distance < settings.window {
                    let to = sessions.items[b]
                    b += 1
                    if to == from { continue }
                    distance += 1
                    let w = 1 / Float(distance)
                    rows[Int(from)][to, default: 0] += w
                    indegree[Int(to)] += w
                }
            }
        }
        var rowStart = [0], targets: [Int32] = [], weights: [Float] = []
        for row in rows {
            let total = row.values.reduce(0, +)
            for (to, w) in row.sorted(by: { $0.key < $1.key }) {
                targets.append(to)
                weights.append(w / total)
            }
            rowStart.append(targets.count)
        }
        let beta = Float(settings.popularityPenalty)
        let penalty = indegree.map { $0 > 0 ? powf($0, -beta) : 1 }
        return TransitionWalks(itemCount: data.itemCount, settings: settings, rowStart: rowStart, targets: targets, weights: weights, penalty: penalty)
    }

    public func score(_ query: SessionQuery, into scores: inout CandidateScores) {
        // The first step q P in its own accumulator: it is added to `scores` penalized, and the second step starts from its best.
        var w: Float = 1
        var first = CandidateScores(itemCount: itemCount)
        for item in query.items.suffix(settings.maxItems).reversed() {
            guard Int(item) < itemCount else { continue }
            for k in rowStart[Int(item)]..<rowStart[Int(item) + 1] { first.add(targets[k], w * weights[k]) }
            w *= Float(settings.decay)
            if w == 0 { break }
        }
        for item in first.touched { scores.add(item, first.values[Int(item)] * penalty[Int(item)]) }
        guard settings.secondStep > 0 else { return }
        let damp = Float(settings.secondStep)
        for (mid, value) in first.top(settings.branching) {
            for k in rowStart[Int(mid)]..<rowStart[Int(mid) + 1] {
                let item = targets[k]
                scores.add(item, damp * value * weights[k] * penalty[Int(item)])
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
