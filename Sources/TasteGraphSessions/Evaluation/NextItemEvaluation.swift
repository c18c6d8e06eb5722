import TasteGraphCore

/// Sessions split by time for next-item evaluation: every session that starts before the cutoff trains,
/// every one from the cutoff on is held out. Held-out plays of items never played in training are
/// dropped (no model can name them), and held-out sessions left with fewer than two plays too.
public struct NextItemSplit: Sendable {
    public let train: ListeningSessions
    public let test: ListeningSessions
    /// Unix seconds: the first held-out session's start.
    public let cutoff: Int64

    /// Holds out the last `heldOutShare` of sessions by start time.
    /// - Precondition: 0 < heldOutShare < 1.
    public init(_ sessions: ListeningSessions, heldOutShare: Double, itemCount: Int) {
        precondition(heldOutShare > 0 && heldOutShare < 1)
        let starts = (0..<sessions.count).map { sessions.start(of: $0) }.sorted()
        let index = min(starts.count - 1, max(0, Int((Double(starts.count) * (1 - heldOutShare)).rounded(.down))))
        let cutoff = starts.isEmpty ? 0 : starts[index]
        self.cutoff = cutoff
        train = sessions.filter { sessions.start(of: $0) < cutoff }
        var known = [Bool](repeating: false, count: itemCount)
        for item in train.items { known[Int(item)] = true }
        var held: [(user: Int32, items: [Int32], times: [Int64])] = []
        for s in 0..<sessions.count where sessions.start(of: s) >= cutoff {
            let kept = sessions.range(s).filter { known[Int(sessions.items[$0])] }
            if kept.count >= 2 { held.append((sessions.sessionUser[s], kept.map { sessions.items[$0] }, kept.map { sessions.times[$0] })) }
        }
        test = ListeningSessions(gapSeconds: sessions.gapSeconds, sessions: held)
    }
}

/// Next-item accuracy: for each held-out session and each position t ≥ 1, the model is asked for the
/// next play given plays 0…t−1 (with the listener and the hour and weekday of play t), and the rank of
/// the play actually made is noted.
///
///     HitRate@20 = (1/N) Σ 1[rank ≤ 20]        MRR@20 = (1/N) Σ 1[rank ≤ 20] / rank
///
/// over the N predictions. Ties rank by lower item id; items the model leaves unscored never rank.
///
/// Session starts are scored apart: the first play of each held-out session, predicted from the listener
/// and the time alone (an empty session: only the personal model, the context and popularity can name
/// it). This is the "what to play when the app opens" case, where the time of day matters most.
public struct NextItemScores: Codable, Sendable, Equatable {
    public let hitRate: Double
    public let mrr: Double
    public let predictions: Int
    public let startHitRate: Double
    public let startMrr: Double
    public let sessions: Int
    public let seconds: Double
}

public enum NextItemEvaluation {
    /// The list length behind HitRate@20 and MRR@20.
    public static let cutoff = 20

    /// Scores `model` on `sessions`.
    /// - Parameters:
    ///   - context: pass the listener, hour and weekday to the model (false: the items only).
    ///   - keep: which sessions count, by listener (all by default).
    public static func evaluate(
        _ model: some NextItemModel, on sessions: ListeningSessions, context: Bool = true, keep: (Int32) -> Bool = { _ in true }
    ) -> NextItemScores {
        let clock = ContinuousClock.now
        var scores = CandidateScores(itemCount: model.itemCount)
        var hits = 0, predictions = 0, counted = 0, startHits = 0
        var reciprocal = 0.0, startReciprocal = 0.0
        for s in 0..<sessions.count where keep(sessions.sessionUser[s]) {
            counted += 1
            let range = sessions.range(s)
            if context {
                let time = sessions.times[range.lowerBound]
                scores.reset()
                model.score(SessionQuery(items: [], user: sessions.sessionUser[s], hour: RFC3339.hour(time), weekday: RFC3339.weekday(time)), into: &scores)
                if let rank = scores.rank(of: sessions.items[range.lowerBound], cutoff: cutoff) {
                    startHits += 1
                    startReciprocal += 1 / Double(rank)
                }
            }
            for t in range.dropFirst() {
                let time = sessions.times[t]
                let query = SessionQuery(
                    items: Array(sessions.items[range.lowerBound..<t]),
                    user: context ? sessions.sessionUser[s] : nil,
                    hour: context ? RFC3339.hour(time) : nil, weekday: context ? RFC3339.weekday(time) : nil)
                scores.reset()
                model.score(query, into: &scores)
                predictions += 1
                if let rank = scores.rank(of: sessions.items[t], cutoff: cutoff) {
                    hits += 1
                    reciprocal += 1 / Double(rank)
                }
            }
        }
        let elapsed = ContinuousClock.now - clock
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return NextItemScores(
            hitRate: predictions > 0 ? Double(hits) / Double(predictions) : 0,
            mrr: predictions > 0 ? reciprocal / Double(predictions) : 0,
            predictions: predictions,
            startHitRate: context && counted > 0 ? Double(startHits) / Double(counted) : 0,
            startMrr: context && counted > 0 ? startReciprocal / Double(counted) : 0,
            sessions: counted, seconds: seconds)
    }
}
