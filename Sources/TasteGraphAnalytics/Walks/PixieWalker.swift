import TasteGraphGraph
import TasteGraphSupport

/// Parameters of the related-artist random walk.
public struct WalkParameters: Codable, Sendable, Equatable {
    /// Probability of jumping back to a seed item after each item → user → item step.
    public var restartProbability = 0.5
    /// Step budget per query (split evenly across seed artists). 30,000 keeps p99 latency under 3 ms on
    /// lastfm-2k with the same accuracy as 100,000 (README, "Measured figures").
    public var maxSteps = 30_000
    /// β in `score = visits / listeners^β`: 0 keeps raw visit counts (popular artists win), 1 divides
    /// the pull of popularity out completely. 0.2 was the best of 0, 0.2 and 0.5 on the benchmark split.
    public var popularityExponent = 0.2
    /// Stop once the top-k has not changed for two checks this many steps apart (0: never stop early).
    public var stabilityCheckInterval = 2_000
    /// How play counts weight the step choice.
    public var weighting: EdgeWeighting = .log1p

    public init() {}
}

/// One related artist with its score.
public struct RelatedArtist: Sendable, Equatable, Codable {
    public let artist: Int
    public let score: Double
}

/// "Fans also like" by random walks with restart on the user–item graph, in the manner of Pixie
/// (Eksombatchai et al., WWW 2018).
///
/// From a seed artist's items the walk alternates item → listener → item, each hop chosen with
/// probability proportional to the edge weight (play counts), and returns to a seed item with probability
/// `restartProbability` after each step. Visits are counted per artist, then normalized against the pull
/// of very popular artists:
///
/// ```
/// score_q(a) = visits_q(a) / listeners(a)^β
/// ```
/// With several seed artists each gets its own walk and the multi-hit booster rewards artists reached from
/// many seeds: `score(a) = (Σ_q √score_q(a))²`.
///
/// The walker is immutable and `Sendable`; each query takes its own seed, so results do not depend on the
/// order of queries.
public struct PixieWalker: Sendable {
    public let parameters: WalkParameters
    let itemToUser: AliasSampler
    let userToItem: AliasSampler
    let itemArtist: [Int32]
    /// Items of each artist that have listeners, with a weight for choosing where a walk starts.
    let artistItems: [[(item: Int32, weight: Float)]]
    /// Distinct listeners of each artist in the graph.
    public let artistListeners: [Int]
    let normalization: [Double]

    /// - Complexity: O(U + I + E) to build the sampling tables.
    public init(graph: BipartiteGraph, itemArtist: [Int], artistCount: Int, parameters: WalkParameters) {
        self.parameters = parameters
        itemToUser = AliasSampler(graph.itemUsers)
        userToItem = AliasSampler(graph.userItems)
        self.itemArtist = itemArtist.map(Int32.init)
        var items = [[(item: Int32, weight: Float)]](repeating: [], count: artistCount)
        for item in 0..<graph.itemCount where itemArtist[item] >= 0 && graph.itemUsers.degree(item) > 0 {
            let weight = graph.itemUsers.weights[graph.itemUsers.offsets[item]..<graph.itemUsers.offsets[item + 1]].reduce(0, +)
            items[itemArtist[item]].append((Int32(item), weight))
        }
        artistItems = items
        var listeners = [Int](repeating: 0, count: artistCount)
        var seen = [Int32](repeating: -1, count: artistCount)
        for user in 0..<graph.userCount {
            for item in graph.userItems.neighbors(user) {
                let artist = itemArtist[Int(item)]
                if artist >= 0 && seen[artist] != Int32(user) {
                    seen[artist] = Int32(user)
                    listeners[artist] += 1
                }
            }
        }
        artistListeners = listeners
        normalization = listeners.map { $0 > 0 ? 1 / pow(Double($0), parameters.popularityExponent) : 0 }
    }

    /// Whether an artist can seed a walk (it has items with listeners).
    public func canSeed(_ artist: Int) -> Bool { !artistItems[artist].isEmpty }

    /// The top `k` artists related to `seeds`, best first, seeds excluded.
    ///
    /// - Parameters:
    ///   - seeds: seed artists (at least one that `canSeed`).
    ///   - k: list length.
    ///   - seed: random seed; the same seed gives the same list.
    /// - Complexity: O(maxSteps) at most; usually far less with early stopping.
    public func related(to seeds: [Int], count k: Int, seed: UInt64) -> [RelatedArtist] {
        let walkable = seeds.filter(canSeed)
        guard !walkable.isEmpty, k > 0 else { return [] }
        let seedList = Array(Set(seeds))  // a handful: a linear scan beats hashing per step
        var boosted: [Int: Double] = [:]
        let budget = max(1, parameters.maxSteps / walkable.count)
        for (index, artist) in walkable.enumerated() {
            var rng = SplitMix64(seed: seed &+ UInt64(artist) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(index))
            let scores = walk(from: artist, excluding: seedList, steps: budget, k: k, rng: &rng)
            if walkable.count == 1 {
                return Self.top(scores, k: k)
            }
            for (candidate, score) in scores { boosted[candidate, default: 0] += score.squareRoot() }
        }
        return Self.top(boosted.mapValues { $0 * $0 }, k: k)
    }

    /// One seed artist's walk: normalized visit scores of every artist reached.
    private func walk(from artist: Int, excluding seeds: [Int], steps: Int, k: Int, rng: inout SplitMix64) -> [Int: Double] {
        let starts = artistItems[artist]
        var cumulative: [Float] = []
        var total: Float = 0
        for start in starts {
            total += start.weight
            cumulative.append(total)
        }
        func restart(_ rng: inout SplitMix64) -> Int {
            let target = Float(rng.nextUnit()) * total
            var low = 0
            var high = cumulative.count - 1
            while low < high {
                let mid = (low + high) / 2
                if cumulative[mid] > target { high = mid } else { low = mid + 1 }
            }
            return Int(starts[low].item)
        }
        var visits = [Int32](repeating: 0, count: artistItems.count)  // dense: no hashing per step
        var touched: [Int] = []
        var current = restart(&rng)
        var previousTop: [Int] = []
        var stableChecks = 0
        let restartThreshold = UInt64(parameters.restartProbability * Double(UInt64.max >> 11)) << 11
        func scores() -> [Int: Double] {
            var result: [Int: Double] = [:]
            result.reserveCapacity(touched.count)
            for artist in touched { result[artist] = Double(visits[artist]) * normalization[artist] }
            return result
        }
        for step in 1...steps {
            guard let user = itemToUser.sample(current, random: rng.next()),
                  let next = userToItem.sample(Int(user), random: rng.next())
            else {
                current = restart(&rng)
                continue
            }
            let reached = Int(itemArtist[Int(next)])
            if reached >= 0 && !seeds.contains(reached) {
                if visits[reached] == 0 { touched.append(reached) }
                visits[reached] += 1
            }
            current = rng.next() < restartThreshold ? restart(&rng) : Int(next)
            if parameters.stabilityCheckInterval > 0 && step % parameters.stabilityCheckInterval == 0 {
                let top = topArtists(touched, visits: visits, k: k)
                if top == previousTop && top.count == k {
                    stableChecks += 1
                    if stableChecks >= 2 { break }
                } else {
                    stableChecks = 0
                }
                previousTop = top
            }
        }
        return scores()
    }

    /// The `k` best touched artists by normalized visits (for the stability check; no dictionary).
    private func topArtists(_ touched: [Int], visits: [Int32], k: Int) -> [Int] {
        var best: [(score: Double, artist: Int)] = []
        best.reserveCapacity(k + 1)
        for artist in touched {
            let score = Double(visits[artist]) * normalization[artist]
            if best.count == k, let last = best.last, score < last.score || (score == last.score && artist > last.artist) { continue }
            var index = best.count
            while index > 0 && (best[index - 1].score < score || (best[index - 1].score == score && best[index - 1].artist > artist)) { index -= 1 }
            best.insert((score, artist), at: index)
            if best.count > k { best.removeLast() }
        }
        return best.map(\.artist)
    }

    /// The `k` best entries, by score descending then artist id ascending (a total order: reproducible).
    static func top(_ scores: [Int: Double], k: Int) -> [RelatedArtist] {
        var heap: [RelatedArtist] = []
        heap.reserveCapacity(k + 1)
        func better(_ a: RelatedArtist, _ b: RelatedArtist) -> Bool {
            a.score > b.score || (a.score == b.score && a.artist < b.artist)
        }
        for (artist, score) in scores {
            let candidate = RelatedArtist(artist: artist, score: score)
            if heap.count < k {
                heap.append(candidate)
                if heap.count == k { heap.sort(by: better) }
            } else if better(candidate, heap[k - 1]) {
                var index = k - 1
                while index > 0 && better(candidate, heap[index - 1]) { index -= 1 }
                heap.insert(candidate, at: index)
                heap.removeLast()
            }
        }
        return heap.count < k ? heap.sorted(by: better) : heap
    }
}

#if canImport(Glibc)
import Glibc
#endif
