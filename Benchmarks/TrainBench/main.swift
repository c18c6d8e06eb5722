// Training benchmark: the GCN on the shared lastfm-2k split (train.tsv / test.tsv), with the protocol of
// ../shared/PEERS.md. Prints one JSON object on stdout. Run through `make bench-train`.
import Foundation
import TasteGraphCore
import TasteGraphFeatures
import TasteGraphGraph
import TasteGraphMetrics
import TasteGraphModel
import TasteGraphRecommend
import TasteGraphStore
import TasteGraphSupport
import BLAS

let arguments = CommandLine.arguments
func argument(_ name: String) -> String? {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
    return arguments[i + 1]
}
if arguments.contains("--scale") {
    try runScale()
    exit(0)
}
if arguments.contains("--levers") {
    try runLevers()
    exit(0)
}

/// One epoch on a generated graph of 1M users, 100k items and 50M listens (power-law item popularity,
/// hashed text features for every item): seconds per epoch and peak RSS.
func runScale() throws {
    BLAS.setThreadCount(1)
    var started = Date()
    let (users, items, listens) = generatedScaleGraph()
    let generateSeconds = Date().timeIntervalSince(started)
    started = Date()
    let texts = (0..<items).map { "song \($0 % 977) title \($0 % 131) artist \($0 % 10_000)" }
    let features = HashingEmbedder().embed(texts)
    let data = TrainingData(userCount: users, itemCount: items, train: listens, validation: ListenTable())
    let model = GCNModel<Float>(config: GCNConfig(), userCount: users, itemCount: items, adjacency: data.graph.gcnNormalized(), features: features)
    let setupSeconds = Date().timeIntervalSince(started)
    var training = TrainingConfig()
    training.epochs = 1
    training.validateEvery = 0
    let result = try Trainer(model: model, data: data, config: training).train()
    let json: [String: Any] = [
        "users": users, "items": items, "listens": listens.count, "epochs": 1,
        "generate_seconds": generateSeconds, "setup_seconds": setupSeconds,
        "seconds_per_epoch": result.secondsPerEpoch, "peak_rss_mib": ProcessStats.peakRSSMiB,
        "final_loss": result.history.last?.loss ?? .nan,
    ]
    print(String(decoding: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]), as: UTF8.self))
}

/// A generated graph (`--users`, `--items`, `--per-user`; default 1M × 100k × 50): power-law item
/// popularity (exponent 0.8), 1–20 plays per listen, seeded.
func generatedScaleGraph() -> (users: Int, items: Int, listens: ListenTable) {
    let users = Int(argument("--users") ?? "") ?? 1_000_000
    let items = Int(argument("--items") ?? "") ?? 100_000
    let perUser = Int(argument("--per-user") ?? "") ?? 50
    var rng = SplitMix64(seed: 1)
    var cumulative: [Double] = []
    var total = 0.0
    for i in 0..<items {
        total += 1 / pow(Double(i + 1), 0.8)
        cumulative.append(total)
    }
    var listens = ListenTable()
    listens.users.reserveCapacity(users * perUser)
    listens.items.reserveCapacity(users * perUser)
    listens.plays.reserveCapacity(users * perUser)
    var seen = Set<Int32>()
    for u in 0..<users {
        seen.removeAll(keepingCapacity: true)
        while seen.count < perUser {
            let target = rng.nextUnit() * total
            var low = 0
            var high = items - 1
            while low < high {
                let mid = (low + high) / 2
                if cumulative[mid] > target { high = mid } else { low = mid + 1 }
            }
            // Spread popular items across ids so the graph is not sorted by popularity.
            let item = Int32((low &* 7_919) % items)
            if seen.insert(item).inserted { listens.append(user: Int32(u), item: item, plays: Float(1 + rng.nextInt(below: 20))) }
        }
    }
    return (users, items, listens)
}

let lastfm = argument("--lastfm") ?? "../shared/datasets/lastfm-2k"
let work = argument("--work") ?? ".bench/train"
guard FileManager.default.fileExists(atPath: lastfm + "/user_artists.dat") else {
    print("{\"skipped\": \"\(lastfm) is absent\"}")
    exit(0)
}
BLAS.setThreadCount(1)
try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
let storePath = work + "/lastfm.sqlite"
if !FileManager.default.fileExists(atPath: storePath) {
    _ = try LastfmImporter(store: try GraphStore(path: storePath)).importDirectory(lastfm)
}
let store = try GraphStore(path: storePath)
let catalog = try store.catalog()

var model = GCNConfig()
var training = TrainingConfig()
if let v = argument("--hidden").flatMap(Int.init) { model.hidden = v }
if let v = argument("--bpr-weight").flatMap(Double.init) { model.bprWeight = v }
if let v = argument("--lr").flatMap(Double.init) { training.learningRate = v }
if let v = argument("--wd").flatMap(Double.init) { training.weightDecay = v }
if let v = argument("--epochs").flatMap(Int.init) { training.epochs = v }
if let v = argument("--batches").flatMap(Int.init) { training.batchesPerEpoch = v }
if let v = argument("--init").flatMap(Double.init) { model.initScale = v }
if let v = argument("--seed").flatMap(UInt64.init) { training.seed = v }
if let v = argument("--bias-reg").flatMap(Double.init) { training.biasRegularization = v }
if arguments.contains("--no-text") { model.textFeatures = false }
if arguments.contains("--no-item-embeddings") { model.itemEmbeddings = false }
if arguments.contains("--layer-weights") { model.layerWeights = true }
if arguments.contains("--relu") { model.activation = .relu }
if arguments.contains("--last-layer") { model.combineLayers = false }
if arguments.contains("--freeze-biases") { model.trainBiases = false }
if arguments.contains("--train-biases") { model.trainBiases = true }
if arguments.contains("--no-play-count-gradient") { model.playCountGradient = false }

// The split files, a seeded validation share of train.tsv for early stopping, and the test protocol
// (every train.tsv item excluded, train and validation parts) as `train --train --test` builds them.
let setup = try ExperimentSetup(
    catalog: catalog, dataFingerprint: try store.dataFingerprint(),
    split: .files(train: lastfm + "/split/train.tsv", test: lastfm + "/split/test.tsv", catalog: catalog),
    validationFraction: training.validationFraction, seed: training.seed
) { try store.listens() }
let embedder = HashingEmbedder()
let features = ItemFeatures.matrix(catalog, embedder: embedder)
let quiet = arguments.contains("--quiet")
let fit = try GCNRecommender.fit(
    split: setup.split, identity: setup.identity, features: features, embedderName: embedder.name,
    model: model, training: training
) { report in
    if !quiet, let recall = report.validationRecall {
        FileHandle.standardError.write(Data("epoch \(report.epoch) loss \(String(format: "%.4f", report.loss)) val recall@20 \(String(format: "%.4f", recall)) (\(String(format: "%.3f", report.seconds)) s)\n".utf8))
    }
}
var json = try TrainingSummary(metrics: fit.testMetrics ?? EvaluationReport(), result: fit.result).jsonObject()
let encoder = JSONEncoder()
json["model"] = try JSONSerialization.jsonObject(with: try encoder.encode(model))
json["training"] = try JSONSerialization.jsonObject(with: try encoder.encode(training))
print(String(decoding: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]), as: UTF8.self))
