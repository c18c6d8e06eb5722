// Graph benchmark: related artists and listener segments on the shared lastfm-2k train split, with the
// protocol of ../shared/PEERS.md. Prints one JSON object on stdout. Run through `make bench-graph`.
import Foundation
import TasteGraphAnalytics
import TasteGraphGraph
import TasteGraphMetrics
import TasteGraphStore
import TasteGraphSupport

let arguments = CommandLine.arguments
func argument(_ name: String, _ fallback: String) -> String {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return fallback }
    return arguments[i + 1]
}
let lastfm = argument("--lastfm", "../shared/datasets/lastfm-2k")
let work = argument("--work", ".bench/graph")
guard FileManager.default.fileExists(atPath: lastfm + "/user_artists.dat") else {
    print("{\"skipped\": \"\(lastfm) is absent\"}")
    exit(0)
}
try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
let storePath = work + "/lastfm.sqlite"
for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: storePath + suffix) }
let store = try GraphStore(path: storePath)
_ = try LastfmImporter(store: store).importDirectory(lastfm)
let catalog = try store.catalog()
let train = try SplitFile.load(path: lastfm + "/split/train.tsv", catalog: catalog)
let test = try SplitFile.load(path: lastfm + "/split/test.tsv", catalog: catalog)

func milliseconds(_ start: DispatchTime) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6 }
func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int((p * Double(sorted.count - 1)).rounded()))]
}
func round4(_ x: Double) -> Double { (x * 10_000).rounded() / 10_000 }

// MARK: Related artists
var parameters = WalkParameters()
if let beta = Double(argument("--beta", "")) { parameters.popularityExponent = beta }
if let restart = Double(argument("--restart", "")) { parameters.restartProbability = restart }
if let steps = Int(argument("--steps", "")) { parameters.maxSteps = steps }
var started = DispatchTime.now()
let service = try RelatedArtistsEngine(store: store, parameters: parameters, listens: train)
let buildMs = milliseconds(started)
let walker = service.walker
let eligible = (0..<catalog.artistCount).filter { walker.artistListeners[$0] >= 10 && !catalog.artistTags[$0].isEmpty }
var rng = SplitMix64(seed: 0)
var shuffled = eligible
for i in stride(from: shuffled.count - 1, to: 0, by: -1) { shuffled.swapAt(i, rng.nextInt(below: i + 1)) }
let seeds = Array(shuffled.prefix(500)).sorted()

func coherence(_ seed: Int, _ list: [RelatedArtist]) -> Double {
    let seedTags = Set(catalog.topTags(ofArtist: seed, count: 3))
    guard !list.isEmpty else { return 0 }
    return Double(list.filter { !seedTags.isDisjoint(with: catalog.topTags(ofArtist: $0.artist, count: 3)) }.count) / Double(list.count)
}

func relatedReport(_ query: (Int, Int) throws -> [RelatedArtist], itemToItem: Bool) rethrows -> [String: Any] {
    var latencies: [Double] = []
    var coherences: [Double] = []
    var listeners: [Double] = []
    for seed in seeds {
        let start = DispatchTime.now()
        let list = try query(seed, 10)
        latencies.append(milliseconds(start))
        coherences.append(coherence(seed, list))
        listeners.append(list.map { Double(walker.artistListeners[$0.artist]) }.reduce(0, +) / Double(max(1, list.count)))
    }
    var report: [String: Any] = [
        "queries": seeds.count,
        "latency_ms_p50": round4(percentile(latencies, 0.5)), "latency_ms_p99": round4(percentile(latencies, 0.99)),
        "tag_coherence": round4(coherences.reduce(0, +) / Double(coherences.count)),
        "mean_listeners_of_top10": round4(listeners.reduce(0, +) / Double(listeners.count)),
    ]
    guard itemToItem else { return report }
    // Item-to-item accuracy: sum the top-50 related scores of each test user's 5 most-played train artists.
    var trainByUser: [Int: [(artist: Int, plays: Float)]] = [:]
    for e in 0..<train.count { trainByUser[Int(train.users[e]), default: []].append((catalog.itemArtist[Int(train.items[e])], train.plays[e])) }
    var testByUser: [Int: Set<Int>] = [:]
    for e in 0..<test.count { testByUser[Int(test.users[e]), default: []].insert(catalog.itemArtist[Int(test.items[e])]) }
    var cache: [Int: [RelatedArtist]] = [:]
    var scores: [RankingScores] = []
    for (user, relevant) in testByUser.sorted(by: { $0.key < $1.key }) {
        let heard = trainByUser[user] ?? []
        let heardSet = Set(heard.map(\.artist))
        let top5 = heard.sorted { ($0.plays, -$0.artist) > ($1.plays, -$1.artist) }.prefix(5)
        var total: [Int: Double] = [:]
        for entry in top5 {
            if cache[entry.artist] == nil { cache[entry.artist] = try query(entry.artist, 50) }
            for r in cache[entry.artist]! where !heardSet.contains(r.artist) { total[r.artist, default: 0] += r.score }
        }
        let ranked = total.sorted { ($0.value, -$0.key) > ($1.value, -$1.key) }.prefix(20).map(\.key)
        scores.append(RankingScores(ranked: Array(ranked), relevant: relevant, k: 20))
    }
    let mean = RankingScores.mean(scores)
    report["test_users"] = scores.count
    report["recall@20"] = round4(mean.recall)
    report["ndcg@20"] = round4(mean.ndcg)
    return report
}

let onlySegments = arguments.contains("--only-segments")
var walkReport = onlySegments ? [:] : relatedReport({ walker.related(to: [$0], count: $1, seed: 0) }, itemToItem: true)
walkReport["build_ms"] = round4(buildMs)
walkReport["parameters"] = [
    "restart": parameters.restartProbability, "max_steps": parameters.maxSteps,
    "popularity_exponent": parameters.popularityExponent, "weighting": parameters.weighting.rawValue,
]
if arguments.contains("--only-walk") {
    print(String(decoding: try JSONSerialization.data(withJSONObject: walkReport, options: [.sortedKeys]), as: UTF8.self))
    exit(0)
}
started = DispatchTime.now()
let ppr = try PageRankRanker(graph: service.graph, itemArtist: catalog.itemArtist, artistCount: catalog.artistCount)
let pprBuild = milliseconds(started)
var pprReport = onlySegments ? [:] : try relatedReport({ try ppr.related(to: [$0], count: $1) }, itemToItem: false)
pprReport["build_ms"] = round4(pprBuild)

// MARK: Segments
var runs: [Segmentation] = []
var times: [Double] = []
var detectionTimes: [Double] = []
var labels: [String] = []
for seed in UInt64(0)...4 {
    var p = SegmentationParameters()
    p.seed = seed
    if let iterations = Int(argument("--leiden-iterations", "")) { p.iterations = iterations }
    if let minSize = Int(argument("--min-size", "")) { p.minSize = minSize }
    let run = try ListenerSegments.detect(store: store, parameters: p, listens: train)
    runs.append(run.segmentation)
    times.append(run.seconds * 1000)
    detectionTimes.append(run.segmentation.detectionSeconds * 1000)
    if seed == 0 {
        labels = run.profiles.prefix(6).map { "\($0.label) (\($0.size)): \($0.topArtists.prefix(3).joined(separator: ", "))" }
    }
}
var aris: [Double] = []
func flat(_ s: Segmentation) -> [Int] { s.membership.enumerated().map { $0.element ?? (-1 - $0.offset) } }
for i in 0..<runs.count { for j in (i + 1)..<runs.count { aris.append(ClusteringAgreement.adjustedRandIndex(flat(runs[i]), flat(runs[j]))) } }
let graph = BipartiteGraph(userCount: catalog.userCount, itemCount: catalog.itemCount, listens: train, weighting: .log1p)
let similarity = UserSimilarityGraph(graph: graph, neighbors: 20)
let segmentsReport: [String: Any] = [
    "graph": ["vertices": similarity.userCount, "edges": similarity.edges.count],
    "modularity_mean": round4(runs.map(\.modularity).reduce(0, +) / 5),
    "segments_mean": runs.map { Double($0.segmentCount) }.reduce(0, +) / 5,
    "largest": runs[0].sizes.max() ?? 0,
    "sizes_seed0": runs[0].sizes,
    "unassigned_seed0": runs[0].unassigned,
    "stability_mean_ari": round4(aris.reduce(0, +) / Double(aris.count)),
    "pipeline_ms_mean": round4(times.reduce(0, +) / 5),
    "detection_ms_mean": round4(detectionTimes.reduce(0, +) / 5),
    "detection_ms_max": round4(detectionTimes.max()!),
    "largest_segments_seed0": labels,
]

// Example lists for the README.
var examples: [String: [String]] = [:]
for name in ["Metallica", "Madonna", "Radiohead", "Daft Punk"] {
    if let artist = try? service.lookup.resolve(name) {
        examples[name] = walker.related(to: [artist], count: 10, seed: 0).map { catalog.artistNames[$0.artist] }
    }
}

let report: [String: Any] = [
    "dataset": "lastfm-2k train split", "train_edges": train.count, "test_edges": test.count,
    "related_walk": walkReport, "related_ppr": pprReport, "segments": segmentsReport, "examples": examples,
]
print(String(decoding: try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys]), as: UTF8.self))
