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

            --warm-start MODEL continues from a trained GCN checkpoint (e.g. the one a server is serving) on every \
            listen the store holds now: users and items it knows (matched by external id) keep their learned rows, \
            new ones start fresh (seeded by --seed), and its parameters are validated as epoch 0, so early stopping \
            ends the run soon when it starts near the optimum. Its recorded settings are the defaults; flags that \
            would change its architecture (--hidden, --item-embeddings, --text-features, --layer-weights, \
            --activation, --combine-layers) or its --features are usage errors. Reload the result into a running \
            server with POST /v1/admin/reload.

            Settings come from the defaults (or the --warm-start checkpoint's), then --config FILE (JSON: {"model": {...}, "training": {...}} with \
            the keys of `--json` output's "model"/"training"), then flags: flags win. A --config file `tastegraph tune` wrote \
            (DIR/MODEL.json) fits its model with the settings the validation search chose (the baselines' flags go under them).

            With --json the last stdout line is one JSON object with the test metrics of the best epoch.
            """
    )

    @OptionGroup var store: StoreOption
    @OptionGroup var split: SplitOptions
    @Option(name: .long, help: ArgumentHelp("Checkpoint file to write.", valueName: "checkpoint")) var out: String
    @Option(name: .long, help: ArgumentHelp("Continue training from this checkpoint (same data and architecture).", valueName: "checkpoint"))
    var resume: String?
    @Option(name: .long, help: ArgumentHelp(
        "Start from this trained GCN checkpoint on the store's current listens: known users and items keep their rows, new ones start fresh; its settings are the defaults.",
        valueName: "checkpoint"))
    var warmStart: String?

    @Option(name: .customLong("model"), help: ArgumentHelp("Model to fit, from the registry: \(ModelRegistry.entries.map { "\($0.kind) (\($0.summary))" }.joined(separator: "; ")). Default gcn, or the model of a tuned --config file.", valueName: "model"))
    var modelOption: ModelKind?

    /// What to fit: --model, else the model a tuned --config names, else the GCN.
    var model: ModelKind { modelOption ?? ((try? tunedConfig())??.kind) ?? .gcn }

    /// The --config file when it is one `tastegraph tune` wrote (it has "kind"), else nil (a GCN settings file).
    /// - Throws: `ValidationError` for a tuned file that names an unknown model or bad settings.
    func tunedConfig() throws -> TunedConfig? {
        guard let path = gcn.config, let data = FileManager.default.contents(atPath: path),
              let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any], object["kind"] != nil
        else { return nil }
        do {
            return try TunedConfig(object: object, path: path)
        } catch let error as SettingsError {
            throw ValidationError(error.message)
        }
    }
    @OptionGroup var features: FeatureOptions
    @OptionGroup(title: "Baselines (--model other than gcn)") var baselines: BaselineOptions
    @OptionGroup(title: "GCN (--model gcn)") var gcn: GCNOptions
    @Option(name: .long, help: "Random seed: the same seed and threads give the same model.") var seed: UInt64?
    @Option(name: .long, help: "ALS: worker threads (default 2). OpenBLAS's own threads are set once per process by TASTEGRAPH_BLAS_THREADS (default 1, fastest on 2-vCPU machines).")
    var threads: Int?
    @Option(name: .long, help: "Score the test share on a seeded sample of this many test users (default: all); the report says how many it scored.")
    var evalUsers: Int?
    @Option(name: .long, help: ArgumentHelp(
        "Write the training log here as JSON Lines, one object per epoch: epoch, loss, validation_recall@20 (null when not validated), seconds.",
        valueName: "file"))
    var log: String?
    @OptionGroup var force: ForceOption
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let threads, threads <= 0 { throw ValidationError("--threads must be positive") }
        if let evalUsers, evalUsers < 1 { throw ValidationError("--eval-users must be positive, got \(evalUsers)") }
        if model != .gcn && resume != nil { throw ValidationError("--resume applies to the GCN only") }
        if resume != nil && warmStart != nil {
            throw ValidationError("--resume and --warm-start exclude each other: --resume continues a run on the same data, --warm-start starts a new one from a model")
        }
        if model != .gcn && warmStart != nil {
            throw ValidationError("--warm-start applies to --model gcn only (\(model) has no training to shorten: it refits from scratch in seconds; drop --warm-start)")
        }
    }

    /// Defaults (or `base`, a warm start's recorded settings) ← config file ← flags (`GCNOptions`), with `--seed`.
    func settings(base: GCNSettings = GCNSettings()) throws -> (GCNConfig, TrainingConfig) {
        let settings = try gcn.settings(seed: seed, base: base)
        return (settings.model, settings.training)
    }

    /// The `--warm-start` checkpoint, read and verified.
    /// - Throws: `CheckpointError` (exit 3) naming the file when it is missing, damaged or not a GCN checkpoint.
    static func readWarmStart(_ path: String) throws -> Checkpoint {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError(path: path, reason: "cannot read the --warm-start checkpoint (missing, unreadable or a directory)")
        }
        let file: ModelFile
        do {
            file = try ModelFile.decode(data)
        } catch let error as ModelFileError {
            throw CheckpointError(path: path, reason: "not a usable --warm-start checkpoint: \(error.reason)")
        }
        guard file.kind == Checkpoint.kind else {
            throw CheckpointError(path: path, reason: "holds a '\(file.kind)' model; --warm-start continues GCN checkpoints only (baselines refit from scratch in seconds)")
        }
        return try Checkpoint(file: file, path: path)
    }

    /// Refuses settings that would change the warm-start checkpoint's architecture.
    static func checkArchitecture(_ warm: GCNWarmStart, _ config: GCNConfig, path: String) throws {
        let conflicts = warm.conflicts(with: config)
        guard !conflicts.isEmpty else { return }
        let list = conflicts.map { "\(GCNOptions.flag(forModelField: $0.field)) \($0.requested) (the checkpoint has \($0.checkpoint))" }
        throw ValidationError(
            "--warm-start \(path): \(list.joined(separator: ", ")) conflicts with its architecture; drop the flag (or the --config key) to keep it, or train cold without --warm-start")
    }

    func run(context: CLIContext) throws {
        let tuned = try tunedConfig()
        if let tuned, let modelOption, modelOption != tuned.kind {
            throw ValidationError("--config \(gcn.config ?? ""): tuned for \(tuned.kind), not --model \(modelOption); drop --model or tune \(modelOption)")
        }
        let previous = try warmStart.map(Self.readWarmStart)
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
        // Defaults for this store (its friend and tag relations on), then a tuned config, then the flags;
        // a warm start's recorded settings replace the defaults.
        let storeDefaults = try GCNOptions.defaults(store: graphStore, catalog: catalog)
        let tunedBase = tuned?.kind == .gcn ? try TunedSettingsFolder.gcnBase(tuned?.settings, defaults: storeDefaults) : storeDefaults
        let (modelConfig, trainingConfig) = try settings(
            base: previous.map { GCNSettings(model: $0.header.model, training: $0.header.training) } ?? tunedBase)
        let splitChoice = try split.choice(catalog: catalog)
        let setup = try ExperimentSetup(
            catalog: catalog, dataFingerprint: try graphStore.dataFingerprint(), split: splitChoice,
            validationFraction: model == .gcn || model == .gcnEASE ? trainingConfig.validationFraction : 0, seed: trainingConfig.seed
        ) { try graphStore.listens() }
        let interactions = setup.split
        guard interactions.train.count > 0 else { throw ValidationError("no train listens: import data first") }
        let identity = setup.identity
        if let tuned, let tunedOn = tuned.splitFingerprint, tunedOn != setup.split.testFingerprint, !output.quiet {
            context.stderr("note: --config was tuned on another split; this run's test figures may be optimistic (its train listens may have seen these test listens)\n")
        }
        if model != .gcn {
            try fitBaseline(setup: setup, catalog: catalog, store: graphStore, tuned: tuned, gcnSettings: GCNSettings(model: modelConfig, training: trainingConfig), context: context)
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
        var warm: GCNWarmStart?
        if let previous, let warmStart {
            do {
                warm = try GCNWarmStart(previous: previous, identity: identity)
            } catch let error as WarmStartError {
                throw ValidationError("--warm-start \(warmStart): \(error.message)")
            }
            try Self.checkArchitecture(warm!, modelConfig, path: warmStart)
            guard previous.header.embedder == itemFeatures.name else {
                let hint = (previous.header.embedder ?? "").hasPrefix("minilm") ? "--features minilm" : "--features hashing"
                throw ValidationError(
                    "--warm-start \(warmStart): it was trained with features '\(previous.header.embedder ?? "none")', not '\(itemFeatures.name)'; pass \(hint)")
            }
        }
        let progress = ProgressDisplay(context: context, total: trainingConfig.epochs, quiet: output.quiet)
        let logFile = try log.map(TrainingLog.init(path:))
        let fit: GCNFit
        do {
            fit = try GCNRecommender.fit(
                split: interactions, identity: identity, features: itemFeatures.matrix, embedderName: itemFeatures.name,
                model: modelConfig, training: trainingConfig, initial: initial, warmStart: warm,
                relations: try GCNOptions.relations(for: modelConfig, store: graphStore, catalog: catalog),
                progress: { report in
                    progress.update(report)
                    logFile?.append(report)
                },
                initializationProgress: { done, of in
                    progress.line.show("initial embeddings: ALS iteration \(done)/\(of)", milestone: true)
                })
        } catch let error as WarmStartError {
            throw ValidationError("--warm-start \(warmStart ?? ""): \(error.message)")
        }
        progress.finish()
        try fit.recommender.save(to: out)
        let result = fit.result
        let metrics = fit.testMetrics ?? EvaluationReport()
        var summary = try TrainingSummary(metrics: metrics, result: result).jsonObject()
        summary["model"] = "gcn"
        summary["features"] = itemFeatures.name
        summary["checkpoint"] = out
        summary["validation_recall@20"] = result.bestValidationRecall ?? NSNull()
        summary["validation_ndcg@20"] = result.bestValidationNDCG ?? NSNull()
        if let calibration = fit.coldItemCalibration {
            summary["cold_item_calibration"] = [
                "quantile": calibration.quantile ?? NSNull(), "cold_items": calibration.coldItems,
                "validation_recall@20": calibration.validationRecall.map { ["quantile": $0.quantile ?? NSNull(), "recall@20": $0.recall20] as [String: Any] },
            ] as [String: Any]
        }
        if let alsSeconds = fit.alsStartSeconds {
            summary["initial_embeddings"] = [
                "from": "als", "seconds": alsSeconds,
                "initial_validation_recall@20": result.initialValidationRecall ?? NSNull(),
            ] as [String: Any]
        }
        if let warm, let warmStart {
            summary["warm_start"] = [
                "from": warmStart, "users_kept": warm.keptUsers, "users_new": warm.newUsers, "items_kept": warm.keptItems,
                "items_new": warm.newItems, "initial_validation_recall@20": result.initialValidationRecall ?? NSNull(),
            ] as [String: Any]
        }
        if output.json {
            context.print(try JSONOutput.line(summary))
        } else {
            if let warm, let warmStart {
                let start = result.initialValidationRecall.map { String(format: "; validation Recall@20 at the start %.4f", $0) } ?? ""
                context.print("warm start from \(warmStart): kept \(warm.keptUsers) users and \(warm.keptItems) items, \(warm.newUsers) new users and \(warm.newItems) new items\(start)")
            }
            if let alsSeconds = fit.alsStartSeconds {
                let start = result.initialValidationRecall.map { String(format: ", validation Recall@20 at the start %.4f", $0) } ?? ""
                context.print("embeddings started at ALS's factors (\(String(format: "%.1f", alsSeconds)) s\(start))")
            }
            context.print("best epoch \(result.bestEpoch) of \(result.epochs); \(String(format: "%.3f", result.secondsPerEpoch)) s/epoch; checkpoint \(out)")
            printMetrics(metrics, context: context)
        }
    }

    /// `--model` other than gcn: fit on all train listens, score the test listens, write a model archive.
    /// The flags' settings, with a tuned --config's settings on top; features when the model reads them.
    private func fitBaseline(setup: ExperimentSetup, catalog: Catalog, store: GraphStore, tuned: TunedConfig?, gcnSettings: GCNSettings, context: CLIContext) throws {
        let model = self.model
        guard let entry = ModelRegistry.entry(model) else { throw ValidationError("unknown model \(model)") }
        let started = Date()
        let settings = baselines.settings(seed: setup.seed, threads: threads ?? 2)
        var overrides = try settings.overrides(for: model)
        if model == .gcnEASE { overrides["gcn"] = try GCNMember.settingsObject(gcnSettings) }
        if let tuned { overrides = SettingsOverlay.combine(tuned.settings, onto: overrides) }
        // An early-stopping model (gcn-ease) gets the validation share the setup carved; the others fit on all train listens.
        var input = FitInput(split: InteractionSplit(train: setup.split.train, validation: setup.split.validation, test: ListenTable()), identity: setup.identity, itemActive: catalog.itemActive)
        if entry.usesFeatures {
            let matrix = try features.matrix(catalog: catalog, store: store, context: context)
            input.features = (matrix.matrix, matrix.name)
        }
        var progress: ProgressDisplay?
        if let member = try GCNMember(entry: entry, overrides: overrides) {
            input.relations = try GCNOptions.relations(for: member.settings.model, store: store, catalog: catalog)
            let display = ProgressDisplay(context: context, total: member.settings.training.epochs, quiet: output.quiet)
            input.progress = { display.update($0) }
            progress = display
        }
        let recommender = try entry.fit(input, overrides: overrides)
        progress?.finish()
        let seconds = Date().timeIntervalSince(started)
        try recommender.save(to: out)
        let heldOut = evalUsers.map { setup.heldOut.sampled(users: $0, seed: setup.seed) } ?? setup.heldOut
        let evaluationStarted = Date()
        let metrics = setup.split.test.count > 0 ? recommender.evaluate(heldOut) : EvaluationReport()
        var summary = try JSONSerialization.jsonObject(with: JSONEncoder().encode(metrics)) as! [String: Any]
        summary["model"] = model.rawValue
        summary["fit_seconds"] = seconds
        summary["model_file"] = out
        summary["evaluation_seconds"] = Date().timeIntervalSince(evaluationStarted)
        summary["mae"] = metrics.mae ?? NSNull()
        summary["rmse"] = metrics.rmse ?? NSNull()
        summary["cold_recall@20"] = metrics.coldRecall20 ?? NSNull()
        if output.json {
            context.print(try JSONOutput.line(summary))
        } else {
            context.print("\(model.rawValue) fitted in \(String(format: "%.2f", seconds)) s; model \(out)")
            printMetrics(metrics, context: context)
        }
    }

    private func printMetrics(_ metrics: EvaluationReport, context: CLIContext) {
        guard metrics.users > 0 else { context.print("no test listens: nothing scored"); return }
        context.print(String(format: "test: Recall@20 %.4f  NDCG@20 %.4f  Recall@10 %.4f  NDCG@10 %.4f  P@20 %.4f  F1@20 %.4f  MAP@20 %.4f  HR@20 %.4f",
                             metrics.recall20, metrics.ndcg20, metrics.recall10, metrics.ndcg10, metrics.precision20, metrics.f120, metrics.map20, metrics.hitrate20))
        let mae = metrics.mae.map { String(format: "%.4f", $0) } ?? "—"
        let rmse = metrics.rmse.map { String(format: "%.4f", $0) } ?? "—"
        let cold = metrics.coldRecall20.map { String(format: "%.4f (%d users)", $0, metrics.coldUsers) } ?? "—"
        context.print(String(format: "      coverage@20 %.4f  novelty@20 %.2f  MAE %@  RMSE %@  cold-item Recall@20 %@", metrics.coverage20, metrics.novelty20, mae, rmse, cold))
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
