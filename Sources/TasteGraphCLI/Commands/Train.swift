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

/// `tastegraph train`: fit the GCN (or a baseline) and write it to a file `recommend` reads.
struct Train: ContextCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the two-layer GCN that predicts play counts and ranks unheard items (or a baseline); write the model.",
        discussion: """
            --model picks what to fit from the model registry: \(ModelRegistry.names) (gcn by default, which writes a \
            checkpoint; the others write a model file, and the ALS and item-KNN flags below apply). \
            `recommend --checkpoint` reads any of them.

            Data: --train FILE --test FILE (userID<TAB>itemID<TAB>weight, ids as in the store) or a seeded \
            per-user holdout of the store's listens (--test-fraction). A seeded share of each user's train \
            listens (--validation-fraction) is held out for early stopping on validation Recall@20.

            Settings come from the defaults, then --config FILE (JSON: {"model": {...}, "training": {...}} with \
            the keys of `--json` output's "model"/"training"), then flags: flags win.

            With --json the last stdout line is one JSON object with the test metrics of the best epoch.
            """
    )

    @OptionGroup var store: StoreOption
    @OptionGroup var split: SplitOptions
    @Option(name: .long, help: ArgumentHelp("Checkpoint file to write.", valueName: "checkpoint")) var out: String
    @Option(name: .long, help: ArgumentHelp("Continue training from this checkpoint (same data and architecture).", valueName: "checkpoint"))
    var resume: String?

    @Option(name: .long, help: ArgumentHelp("Model to fit, from the registry: \(ModelRegistry.entries.map { "\($0.kind) (\($0.summary))" }.joined(separator: "; ")). Default gcn.", valueName: "model"))
    var model: ModelKind = .gcn
    @OptionGroup var features: FeatureOptions
    @OptionGroup(title: "Baselines (--model other than gcn)") var baselines: BaselineOptions
    @OptionGroup(title: "GCN (--model gcn)") var gcn: GCNOptions
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
        if let threads, threads <= 0 { throw ValidationError("--threads must be positive") }
        if model != .gcn && resume != nil { throw ValidationError("--resume applies to the GCN only") }
    }

    /// Defaults ← config file ← flags (`GCNOptions`), with `--seed`.
    func settings() throws -> (GCNConfig, TrainingConfig) {
        let settings = try gcn.settings(seed: seed)
        return (settings.model, settings.training)
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
        let splitChoice = try split.choice(catalog: catalog)
        let setup = try ExperimentSetup(
            catalog: catalog, dataFingerprint: try graphStore.dataFingerprint(), split: splitChoice,
            validationFraction: model == .gcn ? trainingConfig.validationFraction : 0, seed: trainingConfig.seed
        ) { try graphStore.listens() }
        let interactions = setup.split
        guard interactions.train.count > 0 else { throw ValidationError("no train listens: import data first") }
        let identity = setup.identity
        if model != .gcn {
            try fitBaseline(setup: setup, catalog: catalog, context: context)
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
            split: interactions, identity: identity, features: itemFeatures.matrix, embedderName: itemFeatures.name,
            model: modelConfig, training: trainingConfig, initial: initial
        ) { report in
            progress.update(report)
            logFile?.append(report)
        }
        progress.finish()
        try fit.recommender.save(to: out)
        let result = fit.result
        let metrics = fit.testMetrics ?? EvaluationReport()
        var summary = try TrainingSummary(metrics: metrics, result: result).jsonObject()
        summary["model"] = "gcn"
        summary["features"] = itemFeatures.name
        summary["checkpoint"] = out
        if output.json {
            context.print(try JSONOutput.line(summary))
        } else {
            context.print("best epoch \(result.bestEpoch) of \(result.epochs); \(String(format: "%.3f", result.secondsPerEpoch)) s/epoch; checkpoint \(out)")
            printMetrics(metrics, context: context)
        }
    }

    /// `--model` other than gcn: fit on all train listens, score the test listens, write a model archive.
    private func fitBaseline(setup: ExperimentSetup, catalog: Catalog, context: CLIContext) throws {
        let data = try FitData(userCount: catalog.userCount, itemCount: catalog.itemCount, train: setup.split.train)
        let started = Date()
        let settings = baselines.settings(seed: setup.seed, threads: threads ?? 2)
        let recommender = try Baselines.fit(model, data: data, identity: setup.identity, itemActive: catalog.itemActive, settings: settings)
        let seconds = Date().timeIntervalSince(started)
        try recommender.save(to: out)
        let metrics = setup.split.test.count > 0 ? recommender.evaluate(setup.heldOut) : EvaluationReport()
        var summary = try JSONSerialization.jsonObject(with: JSONEncoder().encode(metrics)) as! [String: Any]
        summary["model"] = model.rawValue
        summary["fit_seconds"] = seconds
        summary["model_file"] = out
        summary["mae"] = metrics.mae ?? NSNull()
        summary["rmse"] = metrics.rmse ?? NSNull()
        if output.json {
            context.print(try JSONOutput.line(summary))
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

/// Training progress on stderr: a bar with epoch, loss, validation Recall@20 and ETA on a terminal, plain
/// lines otherwise, nothing with --quiet.
final class ProgressDisplay {
    let line: ProgressLine
    let total: Int
    let started = Date()
    var lastRecall: Double?

    init(context: CLIContext, total: Int, quiet: Bool) {
        line = ProgressLine(context: context, quiet: quiet)
        self.total = total
    }

    func update(_ report: EpochReport) {
        if let recall = report.validationRecall { lastRecall = recall }
        let elapsed = Date().timeIntervalSince(started)
        let recall = lastRecall.map { String(format: "%.4f", $0) } ?? "–"
        if line.context.stderrIsTerminal {
            let eta = elapsed / Double(report.epoch) * Double(total - report.epoch)
            let width = 24
            let filled = width * report.epoch / max(1, total)
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            line.show(String(format: "%@ epoch %d/%d  loss %.4f  val R@20 %@  ETA %.0fs (early stopping may end sooner)", bar, report.epoch, total, report.loss, recall, eta), milestone: false)
        } else {
            line.show(String(format: "epoch %d/%d loss %.4f val_recall@20 %@ elapsed %.1fs", report.epoch, total, report.loss, recall, elapsed),
                      milestone: report.validationRecall != nil)
        }
    }

    func finish() { line.finish() }
}
