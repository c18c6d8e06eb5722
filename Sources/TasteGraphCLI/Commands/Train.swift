import ArgumentParser
import Foundation
import TasteGraphCore
import TasteGraphFeatures
import TasteGraphGraph
import TasteGraphMetrics
import TasteGraphModel
import TasteGraphRecommend
import TasteGraphStore
import TasteGraphSupport

extension Activation: ExpressibleByArgument {}

/// `tastegraph train`: fit the GCN (or a baseline) and write it to a file `recommend` reads.
struct Train: ContextCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the two-layer GCN that predicts play counts and ranks unheard items (or a baseline); write the model.",
        discussion: """
            --model picks what to fit: gcn (default; writes a checkpoint), popularity, coldstart, itemknn or als \
            (write a model archive; the ALS and item-KNN flags below apply). `recommend --checkpoint` reads either.

            Data: --train FILE --test FILE (userID<TAB>itemID<TAB>weight, ids as in the store) or a seeded \
            per-user holdout of the store's listens (--test-fraction). A seeded share of each user's train \
            listens (--validation-fraction) is held out for early stopping on validation Recall@20.

            Settings come from the defaults, then --config FILE (JSON: {"model": {...}, "training": {...}} with \
            the keys of `--json` output's "model"/"training"), then flags: flags win.

            With --json the last stdout line is one JSON object with the test metrics of the best epoch.
            """
    )

    @OptionGroup var store: StoreOption
    @Option(name: .long, help: ArgumentHelp("Explicit train split file.", valueName: "file")) var train: String?
    @Option(name: .long, help: ArgumentHelp("Explicit test split file.", valueName: "file")) var test: String?
    @Option(name: .long, help: ArgumentHelp("Checkpoint file to write.", valueName: "checkpoint")) var out: String
    @Option(name: .long, help: ArgumentHelp("JSON settings file; flags override it.", valueName: "file")) var config: String?
    @Option(name: .long, help: ArgumentHelp("Continue training from this checkpoint (same data and architecture).", valueName: "checkpoint"))
    var resume: String?

    @Option(name: .long, help: "Model to fit: gcn, popularity, coldstart, itemknn or als (default gcn).") var model: ModelKind = .gcn
    @OptionGroup var features: FeatureOptions
    @OptionGroup(title: "Baselines (--model other than gcn)") var baselines: BaselineOptions
    // GCN
    @Option(name: .long, help: "Hidden width H of both layers (default 64).") var hidden: Int?
    @Option(name: .long, help: "Weight λ of the BPR ranking loss beside the MSE (default 5).") var bprWeight: Double?
    @Option(name: .long, help: "Activation after each layer: none or relu (default none).") var activation: Activation?
    @Option(name: .long, help: "Use a learned H×H weight per layer: true/false (default false).") var layerWeights: Bool?
    @Option(name: .long, help: "Average input and both layers' outputs, LightGCN-style: true/false (default true).") var combineLayers: Bool?
    @Option(name: .long, help: "Learned item ID embeddings beside the text features: true/false (default true).") var itemEmbeddings: Bool?
    @Option(name: .long, help: "Project item text features into the input layer: true/false (default true).") var textFeatures: Bool?
    @Option(name: .long, help: "Keep training the biases after the bias-baseline start: true/false (default false).") var trainBiases: Bool?
    @Option(name: .long, help: "Let the play-count error reach the embeddings: true/false (default true).") var playCountGradient: Bool?
    @Option(name: .long, help: "Standard deviation of the initial embeddings (default 0.1).") var initScale: Double?
    // Training
    @Option(name: .long, help: "Maximum epochs (default 300).") var epochs: Int?
    @Option(name: .long, help: "Adam learning rate (default 0.01).") var learningRate: Double?
    @Option(name: .long, help: "Decoupled weight decay on embeddings and weights (default 0.5).") var weightDecay: Double?
    @Option(name: .long, help: "Mini-batches (Adam steps) per epoch (default 4).") var batchesPerEpoch: Int?
    @Option(name: .long, help: "Stop after this many validations without improvement (default 20).") var patience: Int?
    @Option(name: .long, help: "Validate every N epochs (default 2).") var validateEvery: Int?
    @Option(name: .long, help: "Share of each user's train listens used for validation (default 0.1).") var validationFraction: Double?
    @Option(name: .long, help: "λ of the regularized bias baseline the play-count head starts from (default 5).") var biasRegularization: Double?
    @Option(name: .long, help: "Share of each user's listens held out for test when no --test is given (default 0.1).")
    var testFraction = 0.1
    @Option(name: .long, help: "Random seed: the same seed and threads give the same model.") var seed: UInt64?
    @Option(name: .long, help: "ALS: worker threads (default 2). OpenBLAS's own threads are set once per process by TASTEGRAPH_BLAS_THREADS (default 1, fastest on 2-vCPU machines).")
    var threads: Int?
    @Option(name: .long, help: ArgumentHelp(
        "Write the training log here as JSON Lines, one object per epoch: epoch, loss, validation_recall@20 (null when not validated), seconds.",
        valueName: "file"))
    var log: String?
    @OptionGroup var force: ForceOption
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if (train == nil) != (test == nil) { throw ValidationError("give both --train and --test, or neither") }
        if let hidden, hidden <= 0 { throw ValidationError("--hidden must be positive") }
        if let epochs, epochs <= 0 { throw ValidationError("--epochs must be positive") }
        if let learningRate, !(learningRate > 0) { throw ValidationError("--learning-rate must be positive") }
        if let batchesPerEpoch, batchesPerEpoch <= 0 { throw ValidationError("--batches-per-epoch must be positive") }
        guard (0..<1).contains(testFraction) else { throw ValidationError("--test-fraction must be in [0, 1)") }
        if let threads, threads <= 0 { throw ValidationError("--threads must be positive") }
        if model != .gcn && resume != nil { throw ValidationError("--resume applies to the GCN only") }
    }

    /// Defaults ← config file ← flags.
    func settings() throws -> (GCNConfig, TrainingConfig) {
        var model = TrainDefaults.model
        var training = TrainDefaults.training
        if let config {
            guard let data = FileManager.default.contents(atPath: config),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            else { throw ValidationError("--config \(config): not a readable JSON object") }
            model = try merge(model, object["model"])
            training = try merge(training, object["training"])
        }
        if let hidden { model.hidden = hidden }
        if let bprWeight { model.bprWeight = bprWeight }
        if let activation { model.activation = activation }
        if let layerWeights { model.layerWeights = layerWeights }
        if let combineLayers { model.combineLayers = combineLayers }
        if let itemEmbeddings { model.itemEmbeddings = itemEmbeddings }
        if let textFeatures { model.textFeatures = textFeatures }
        if let trainBiases { model.trainBiases = trainBiases }
        if let playCountGradient { model.playCountGradient = playCountGradient }
        if let initScale { model.initScale = initScale }
        if let epochs { training.epochs = epochs }
        if let learningRate { training.learningRate = learningRate }
        if let weightDecay { training.weightDecay = weightDecay }
        if let batchesPerEpoch { training.batchesPerEpoch = batchesPerEpoch }
        if let patience { training.patience = patience }
        if let validateEvery { training.validateEvery = validateEvery }
        if let validationFraction { training.validationFraction = validationFraction }
        if let biasRegularization { training.biasRegularization = biasRegularization }
        if let seed { training.seed = seed }
        return (model, training)
    }

    /// Overlays the keys of a JSON object onto a Codable value.
    private func merge<T: Codable>(_ value: T, _ overlay: Any?) throws -> T {
        guard let overlay = overlay as? [String: Any] else { return value }
        var base = try JSONSerialization.jsonObject(with: JSONEncoder().encode(value)) as! [String: Any]
        for (key, entry) in overlay {
            guard base[key] != nil else { throw ValidationError("--config: unknown setting '\(key)'") }
            base[key] = entry
        }
        do {
            return try JSONDecoder().decode(T.self, from: JSONSerialization.data(withJSONObject: base))
        } catch {
            throw ValidationError("--config: \(error)")
        }
    }

    func run(context: CLIContext) throws {
        let (modelConfig, trainingConfig) = try settings()
        // Outputs are checked before any work: a refused path costs nothing and replaces nothing.
        let outputs = force.outputGuard(store: store.store)
        try outputs.checkFile(out)
        if let log {
            try outputs.checkFile(log)
            guard OutputGuard.canonical(log) != OutputGuard.canonical(out) else {
                throw ValidationError("--log and --out name the same file")
            }
        }
        let graphStore = try GraphStore.openExisting(path: store.store)
        let catalog = try graphStore.catalog()
        let fraction = model == .gcn ? trainingConfig.validationFraction : 0
        let split: InteractionSplit
        if let train, let test {
            split = InteractionSplit.carvingValidation(
                train: try SplitFile.load(path: train, catalog: catalog), test: try SplitFile.load(path: test, catalog: catalog),
                fraction: fraction, seed: trainingConfig.seed)
        } else {
            split = InteractionSplit.holdout(try graphStore.listens(), validationFraction: fraction, testFraction: testFraction, seed: trainingConfig.seed)
        }
        guard split.train.count > 0 else { throw ValidationError("no train listens: import data first") }
        let identity = ModelIdentity(
            userIDs: catalog.userExternalIDs, itemIDs: catalog.itemExternalIDs, dataFingerprint: try graphStore.dataFingerprint(),
            splitFingerprint: split.testFingerprint)
        if model != .gcn {
            try fitBaseline(split: split, catalog: catalog, identity: identity, seed: trainingConfig.seed, context: context)
            return
        }
        let itemFeatures = try features.matrix(catalog: catalog, store: graphStore, context: context)
        var initial: [Float]?
        if let resume {
            let previous = try Checkpoint.read(from: resume)
            guard previous.header.model == modelConfig else {
                throw ValidationError("--resume \(resume): its architecture differs from this run's settings; resume with the same model flags")
            }
            guard previous.header.dataFingerprint == identity.dataFingerprint, previous.header.userIDs == catalog.userExternalIDs else {
                throw ValidationError("--resume \(resume): it was trained on different data (fingerprint mismatch)")
            }
            guard previous.header.embedder == itemFeatures.name else {
                throw ValidationError("--resume \(resume): it was trained with features '\(previous.header.embedder ?? "none")', not '\(itemFeatures.name)'")
            }
            initial = previous.parameters
        }
        let progress = ProgressDisplay(context: context, total: trainingConfig.epochs, quiet: output.quiet)
        let logFile = try log.map(TrainingLog.init(path:))
        let fit = try GCNRecommender.fit(
            split: split, identity: identity, features: itemFeatures.matrix, embedderName: itemFeatures.name,
            model: modelConfig, training: trainingConfig, initial: initial
        ) { report in
            progress.update(report)
            logFile?.append(report)
        }
        progress.finish()
        try fit.recommender.save(to: out)
        let result = fit.result
        let metrics = fit.testMetrics ?? EvaluationReport()
        var summary = try JSONSerialization.jsonObject(with: JSONEncoder().encode(metrics)) as! [String: Any]
        summary["model"] = "gcn"
        summary["features"] = itemFeatures.name
        summary["epochs"] = result.epochs
        summary["best_epoch"] = result.bestEpoch
        summary["seconds_per_epoch"] = result.secondsPerEpoch
        summary["seconds_to_best_epoch"] = result.secondsToBest
        summary["train_seconds"] = result.trainSeconds
        summary["peak_rss_mib"] = ProcessStats.peakRSSMiB
        summary["checkpoint"] = out
        if output.json {
            context.print(try jsonLine(summary))
        } else {
            context.print("best epoch \(result.bestEpoch) of \(result.epochs); \(String(format: "%.3f", result.secondsPerEpoch)) s/epoch; checkpoint \(out)")
            printMetrics(metrics, context: context)
        }
    }

    /// `--model` other than gcn: fit on all train listens, score the test listens, write a model archive.
    private func fitBaseline(split: InteractionSplit, catalog: Catalog, identity: ModelIdentity, seed: UInt64, context: CLIContext) throws {
        let data = try FitData(userCount: catalog.userCount, itemCount: catalog.itemCount, train: split.train)
        let started = Date()
        let settings = baselines.settings(seed: seed, threads: threads ?? 2)
        let recommender = try Baselines.fit(model, data: data, identity: identity, itemActive: catalog.itemActive, settings: settings)
        let seconds = Date().timeIntervalSince(started)
        try recommender.save(to: out)
        let heldOut = TrainingData(userCount: catalog.userCount, itemCount: catalog.itemCount, train: split.train, validation: ListenTable())
            .heldOut(split.test)
        let metrics = split.test.count > 0 ? recommender.evaluate(heldOut) : EvaluationReport()
        var summary = try JSONSerialization.jsonObject(with: JSONEncoder().encode(metrics)) as! [String: Any]
        summary["model"] = model.rawValue
        summary["fit_seconds"] = seconds
        summary["model_file"] = out
        summary["mae"] = metrics.mae ?? NSNull()
        summary["rmse"] = metrics.rmse ?? NSNull()
        if output.json {
            context.print(try jsonLine(summary))
        } else {
            context.print("\(model.rawValue) fitted in \(String(format: "%.2f", seconds)) s; model \(out)")
            printMetrics(metrics, context: context)
        }
    }

    private func printMetrics(_ metrics: EvaluationReport, context: CLIContext) {
        guard metrics.users > 0 else { context.print("no test listens: nothing scored"); return }
        context.print(String(format: "test: Recall@20 %.4f  NDCG@20 %.4f  Recall@10 %.4f  NDCG@10 %.4f  P@20 %.4f  MAP@20 %.4f  HR@20 %.4f",
                             metrics.recall20, metrics.ndcg20, metrics.recall10, metrics.ndcg10, metrics.precision20, metrics.map20, metrics.hitrate20))
        let mae = metrics.mae.map { String(format: "%.4f", $0) } ?? "—"
        let rmse = metrics.rmse.map { String(format: "%.4f", $0) } ?? "—"
        context.print(String(format: "      coverage@20 %.4f  novelty@20 %.2f  MAE %@  RMSE %@", metrics.coverage20, metrics.novelty20, mae, rmse))
    }
}

/// `train --log`: one JSON object per epoch, flushed as training goes so a long run can be watched.
final class TrainingLog {
    let handle: FileHandle

    /// Creates the log file (`checkFile` has already refused an existing one unless `--force`).
    init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw ValidationError("--log \(path): cannot create the file")
        }
        self.handle = handle
    }

    func append(_ report: EpochReport) {
        let recall = report.validationRecall.map { "\($0)" } ?? "null"
        let line = "{\"epoch\": \(report.epoch), \"loss\": \(report.loss), \"validation_recall@20\": \(recall), \"seconds\": \(report.seconds)}\n"
        handle.write(Data(line.utf8))
    }

    deinit { try? handle.close() }
}

/// The defaults of `train`: the library's defaults, which are the ablation's winner (README, "Ablation").
enum TrainDefaults {
    static var model: GCNConfig { GCNConfig() }
    static var training: TrainingConfig { TrainingConfig() }
}

/// Training progress on stderr: a bar with epoch, loss, validation Recall@20 and ETA on a terminal, plain
/// lines otherwise, nothing with --quiet.
final class ProgressDisplay {
    let context: CLIContext
    let total: Int
    let quiet: Bool
    let started = Date()
    var lastRecall: Double?

    init(context: CLIContext, total: Int, quiet: Bool) {
        self.context = context
        self.total = total
        self.quiet = quiet
    }

    func update(_ report: EpochReport) {
        guard !quiet else { return }
        if let recall = report.validationRecall { lastRecall = recall }
        let elapsed = Date().timeIntervalSince(started)
        let eta = elapsed / Double(report.epoch) * Double(total - report.epoch)
        let recall = lastRecall.map { String(format: "%.4f", $0) } ?? "–"
        if context.stderrIsTerminal {
            let width = 24
            let filled = width * report.epoch / max(1, total)
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            context.stderr(String(format: "\r%@ epoch %d/%d  loss %.4f  val R@20 %@  ETA %.0fs (early stopping may end sooner)  ", bar, report.epoch, total, report.loss, recall, eta))
        } else if report.validationRecall != nil {
            context.stderr(String(format: "epoch %d/%d loss %.4f val_recall@20 %@ elapsed %.1fs\n", report.epoch, total, report.loss, recall, elapsed))
        }
    }

    func finish() {
        if !quiet && context.stderrIsTerminal { context.stderr("\n") }
    }
}
