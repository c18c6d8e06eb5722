import ArgumentParser
import Foundation
import TasteGraphCore
import TasteGraphFeatures
import TasteGraphGraph
import TasteGraphMetrics
import TasteGraphModel
import TasteGraphRecommend
import TasteGraphServing
import TasteGraphSessions
import TasteGraphStore

/// `tastegraph evaluate`: every model on one split, one table.
struct Evaluate: ContextCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare the GCN with every other model of the registry on one split.",
        discussion: """
            Split: --train FILE --test FILE (userID<TAB>itemID<TAB>weight, external ids) or a seeded per-user \
            holdout of the store's listens (--test-fraction, --seed). Every model is fitted on the train listens \
            only (the GCN holds out --validation-fraction of them for early stopping) and scored by the protocol \
            of ../shared/PEERS.md: all items ranked for every test user, the user's train items removed, top K.

            MAE/RMSE are reported for models that predict play counts: the GCN, and popularity, whose play \
            counts come from the bias baseline μ + b_u + b_i.

            Models: \(ModelRegistry.names) (als takes its weighting from --als-weighting), als-bm25, als-conf.

            --tuned DIR fits each model with the settings `tastegraph tune --out DIR` chose on a validation share of \
            this split's train listens (refused when tuned on another split); the flags' settings go under them.

            The GCN row uses --checkpoint when given (it must come from this store), else trains with the defaults.

            --diversity 0,0.1,0.3 scores each model's lists re-ranked by maximal marginal relevance at each λ (the \
            similarity: the cosine of the items' listener sets in the train listens; the pool: the best 100): one row \
            per λ, named MODEL+mmrλ (λ = 0 is the plain MODEL row), each with "diversity": λ in --json.

            --json prints {"protocol": {...}, "models": {name: {metrics..., "fit_seconds": s}}}.

            --task next-item evaluates the session models instead (\(NextItemModelRegistry.names), and blend with \
            its hour-of-day context re-ranking as blend+context) on the store's timestamped plays: sessions cut at \
            gaps of more than --session-gap minutes; the last --held-out-share of sessions by start time are the \
            test, the last --validation-share of the ones before are the validation on which every model's \
            settings are chosen (by MRR@20). For each test session every next play is predicted from the plays \
            before it: HitRate@20 and MRR@20. --personal names the user–item model the blend mixes in (none: \
            without). --focus-users FILE (one external user id per line; a header-less first column, such as the \
            sample's truth_hours.tsv) also reports the test figures on those listeners' sessions.
            """
    )

    @OptionGroup var store: StoreOption
    @Option(name: .long, help: ArgumentHelp("ranking (user–item models, the PEERS protocol) or next-item (session models on timed plays).", valueName: "task"))
    var task = EvaluationTask.ranking
    @OptionGroup(title: "Next-item (--task next-item)") var nextItem: NextItemOptions
    @OptionGroup var split: SplitOptions
    @Option(name: .long, help: ArgumentHelp("Comma-separated models from the registry (\(ModelChoice.names.joined(separator: ", ")); default: every registered model).", valueName: "list"))
    var models = ModelRegistry.kinds.map(\.rawValue).joined(separator: ",")
    @Option(name: .long, help: ArgumentHelp("A GCN checkpoint for the gcn row instead of training one.", valueName: "checkpoint"))
    var checkpoint: String?
    @Option(name: .long, help: "Seed of the holdout split, the GCN, ALS's initial factors and the cold-start mix.") var seed: UInt64 = 0
    @Option(name: .long, help: "Worker threads for ALS (the GCN trains with one OpenBLAS thread, fastest on 2 vCPUs).") var threads = 2
    @Option(name: .long, help: ArgumentHelp("Also save every fitted model into this directory (NAME.tgm; the GCN as gcn.tgck).", valueName: "dir"))
    var saveDir: String?
    @Option(name: .long, help: ArgumentHelp("Fit each model with the settings `tastegraph tune --out DIR` chose for it (DIR/MODEL.json, tuned on this split's train listens); models with nothing to tune use their defaults.", valueName: "dir"))
    var tuned: String?
    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Comma-separated MMR λ values, each 0 to 1: one row per model and λ (default: none, the plain rows only).", valueName: "list"))
    var diversity: String?
    @OptionGroup var features: FeatureOptions
    @OptionGroup(title: "Baselines") var baselines: BaselineOptions
    @OptionGroup(title: "GCN (when --models has gcn and no --checkpoint)") var gcn: GCNOptions
    @OptionGroup var force: ForceOption
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard threads > 0 else { throw ValidationError("--threads must be positive") }
        _ = try ModelChoice.parse(models)
        _ = try lambdas()
    }

    /// The λ values of --diversity, in the order given (nil without the flag).
    func lambdas() throws -> [Double]? {
        guard let diversity else { return nil }
        let values = diversity.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let lambdas = try values.map { text in
            guard let value = Double(text), value.isFinite, (0...1).contains(value) else {
                throw ValidationError("--diversity takes comma-separated numbers between 0 and 1 (0: no re-ranking), got '\(text)'")
            }
            return value
        }
        guard Set(lambdas).count == lambdas.count else { throw ValidationError("--diversity lists a λ twice: \(diversity)") }
        return lambdas
    }

    func run(context: CLIContext) throws {
        if task == .nextItem { return try nextItem.run(store: store.store, output: output, context: context) }
        let choices = try ModelChoice.parse(models)
        let outputs = force.outputGuard(store: store.store)
        func savePath(_ choice: ModelChoice) -> String? {
            saveDir.map { $0 + "/" + choice.name + (choice.kind == .gcn ? ".tgck" : ".tgm") }
        }
        if let saveDir {
            try outputs.checkFolder(saveDir, files: choices.map { URL(fileURLWithPath: savePath($0)!).lastPathComponent })
        }
        let graphStore = try GraphStore.openExisting(path: store.store)
        let catalog = try graphStore.catalog()
        let splitChoice = try split.choice(catalog: catalog)
        // Every model fits on all train listens; the GCN row carves its own validation share from them.
        let setup = try ExperimentSetup(catalog: catalog, dataFingerprint: try graphStore.dataFingerprint(), split: splitChoice, seed: seed) {
            try graphStore.listens()
        }
        let trainListens = setup.split.train
        let testListens = setup.split.test
        guard trainListens.count > 0, testListens.count > 0 else {
            throw ValidationError("the split has \(trainListens.count) train and \(testListens.count) test listens; both must be non-empty")
        }
        let identity = setup.identity
        var protocolInfo = setup.jsonDescription
        protocolInfo["store"] = store.store
        protocolInfo["k"] = [10, 20]
        let heldOut = setup.heldOut
        protocolInfo["filters"] = ["exclude_train_items": true, "ties": "lower item index first"]
        protocolInfo["metrics"] = "recall, precision, F1, hit rate, NDCG (binary), MAP: per-user means; cold_recall@20: recall of the test items with no train listeners, over the users holding one out; coverage and novelty over all lists; MAE/RMSE on log1p(plays) of test edges"

        let lambdas = try lambdas()
        // MMR's similarity: the cosine of the items' listener sets in the train listens (never the test's).
        let similarity = lambdas.map { _ in ItemSimilarity(itemCount: identity.itemIDs.count, listens: trainListens) }
        if let lambdas {
            protocolInfo["diversity"] = ["lambdas": lambdas, "similarity": "cosine of the items' train listener sets", "pool": Diversification.defaultPool(for: 20)] as [String: Any]
        }
        let settings = baselines.settings(seed: seed, threads: threads)
        // Tuned settings are read before any fit: a missing or foreign file costs nothing.
        var tunedSettings: [String: [String: Any]] = [:]
        if let tuned {
            for choice in choices {
                tunedSettings[choice.name] = try TunedSettingsFolder(path: tuned).settings(for: choice, splitFingerprint: setup.split.testFingerprint)
            }
        }
        var itemFeatureMatrix: (matrix: SparseMatrix<Float>, name: String)?
        func itemFeatures() throws -> (matrix: SparseMatrix<Float>, name: String) {
            if let itemFeatureMatrix { return itemFeatureMatrix }
            let made = try features.matrix(catalog: catalog, store: graphStore, context: context)
            itemFeatureMatrix = (made.matrix, made.name)
            return (made.matrix, made.name)
        }
        var rows: [(name: String, report: EvaluationReport, seconds: Double, extra: [String: Any])] = []
        var modelSettings: [String: Any] = [:]
        for choice in choices {
            if !output.quiet { context.stderr("\(choice.name): fitting…\n") }
            let started = Date()
            let recommender: any Recommender
            var extra: [String: Any] = [:]
            switch choice.kind {
            case .gcn:
                if let checkpoint {
                    let loaded = try GCNRecommender(checkpoint: Checkpoint.read(from: checkpoint))
                    guard loaded.identity.itemIDs == identity.itemIDs, loaded.identity.userIDs == identity.userIDs else {
                        throw CheckpointError(path: checkpoint, reason: "its users and items differ from this store's; train on this store")
                    }
                    // A model trained on another split may have trained on this split's test listens.
                    guard loaded.identity.splitFingerprint == identity.splitFingerprint else {
                        throw ValidationError("""
                            \(checkpoint) was trained on another split than this evaluation's (its held-out listens differ: \
                            another --seed, --test-fraction or split files), so it may have trained on these test listens; \
                            evaluate with the split it was trained with, or train it on this one
                            """)
                    }
                    recommender = loaded
                    extra["source"] = "checkpoint \(checkpoint)"
                    modelSettings[choice.name] = ["checkpoint": checkpoint, "model": try jsonObject(loaded.checkpoint.header.model)]
                } else {
                    // Every GCN flag of `train` applies here too (GCNOptions), with this evaluation's --seed.
                    let gcnSettings = try gcn.settings(seed: seed, base: TunedSettingsFolder.gcnBase(tunedSettings[choice.name], defaults: GCNOptions.defaults(store: graphStore, catalog: catalog)))
                    let training = gcnSettings.training
                    let split = setup.carvingValidation(fraction: training.validationFraction)
                    let itemFeatures = try itemFeatures()
                    let progress = ProgressDisplay(context: context, total: training.epochs, quiet: output.quiet)
                    let fit = try GCNRecommender.fit(
                        split: split, identity: identity, features: itemFeatures.matrix, embedderName: itemFeatures.name,
                        model: gcnSettings.model, training: training,
                        relations: try GCNOptions.relations(for: gcnSettings.model, store: graphStore, catalog: catalog)) { progress.update($0) }
                    progress.finish()
                    recommender = fit.recommender
                    extra["source"] = "trained"
                    extra["epochs"] = fit.result.epochs
                    extra["best_epoch"] = fit.result.bestEpoch
                    extra["seconds_per_epoch"] = fit.result.secondsPerEpoch
                    modelSettings[choice.name] = ["model": try jsonObject(gcnSettings.model), "training": try jsonObject(training), "features": itemFeatures.name]
                }
            default:
                var modelSpecific = settings
                if let weighting = choice.alsWeighting { modelSpecific.als.weighting = weighting }
                guard let entry = ModelRegistry.entry(choice.kind) else { throw ValidationError("unknown model \(choice.name)") }
                var overrides = try modelSpecific.overrides(for: choice.kind)
                // A model with a GCN inside (gcn-ease) takes the GCN flags for it, with this evaluation's --seed.
                if choice.kind == .gcnEASE { overrides["gcn"] = try GCNMember.settingsObject(try gcn.settings(seed: seed, base: GCNOptions.defaults(store: graphStore, catalog: catalog))) }
                if let chosen = tunedSettings[choice.name] {
                    overrides = SettingsOverlay.combine(chosen, onto: overrides)
                    if let weighting = choice.alsWeighting { overrides["weighting"] = weighting.rawValue }
                }
                var input = FitInput(split: InteractionSplit(train: trainListens, validation: ListenTable(), test: ListenTable()), identity: identity, itemActive: catalog.itemActive)
                if entry.usesFeatures { input.features = try itemFeatures() }
                var progress: ProgressDisplay?
                if let member = try GCNMember(entry: entry, overrides: overrides) {
                    // It early-stops on its own share of the train listens, as the gcn row does.
                    input.split = setup.carvingValidation(fraction: member.settings.training.validationFraction)
                    input.relations = try GCNOptions.relations(for: member.settings.model, store: graphStore, catalog: catalog)
                    let display = ProgressDisplay(context: context, total: member.settings.training.epochs, quiet: output.quiet)
                    input.progress = { display.update($0) }
                    progress = display
                }
                recommender = try entry.fit(input, overrides: overrides)
                progress?.finish()
                modelSettings[choice.name] = try entry.settings(overrides: overrides)
                if tunedSettings[choice.name] != nil { extra["tuned"] = true }
            }
            let seconds = Date().timeIntervalSince(started)
            if let saveDir, let path = savePath(choice) {
                try FileManager.default.createDirectory(atPath: saveDir, withIntermediateDirectories: true)
                try outputs.checkFile(path)
                try recommender.save(to: path)
            }
            for lambda in lambdas ?? [0] {
                let name = lambda == 0 ? choice.name : "\(choice.name)+mmr\(lambda)"
                let report = try recommender.evaluate(heldOut, diversity: similarity.flatMap { lambda == 0 ? nil : try Diversification(lambda: lambda, similarity: $0) })
                var rowExtra = extra
                if lambdas != nil { rowExtra["diversity"] = lambda }
                rows.append((name, report, seconds, rowExtra))
                if !output.quiet {
                    context.stderr(String(format: "%@: Recall@20 %.4f  NDCG@20 %.4f  (fit %.2f s)\n", name, report.recall20, report.ndcg20, seconds))
                }
            }
        }
        protocolInfo["users_evaluated"] = rows.first?.report.users ?? 0
        protocolInfo["settings"] = modelSettings

        if output.json {
            var modelsObject: [String: Any] = [:]
            for row in rows {
                var entry = try jsonObject(row.report)
                entry["mae"] = row.report.mae ?? NSNull()
                entry["rmse"] = row.report.rmse ?? NSNull()
                entry["cold_recall@20"] = row.report.coldRecall20 ?? NSNull()
                entry["fit_seconds"] = row.seconds
                for (key, value) in row.extra { entry[key] = value }
                modelsObject[row.name] = entry
            }
            context.print(try JSONOutput.line(["protocol": protocolInfo, "models": modelsObject]))
            return
        }
        context.print("\(heldOut.relevant.filter { !$0.isEmpty }.count) test users, \(catalog.itemCount) items ranked, train items excluded")
        let header = ["model", "R@10", "R@20", "NDCG@10", "NDCG@20", "P@20", "F1@20", "MAP@20", "HR@20", "cold R@20", "cov@20", "nov@20", "MAE", "RMSE", "fit s"]
        var table = [header]
        for row in rows {
            let r = row.report
            let ranking: [Double] = [r.recall10, r.recall20, r.ndcg10, r.ndcg20, r.precision20, r.f120, r.map20, r.hitrate20]
            var cells: [String] = [row.name]
            cells += ranking.map { String(format: "%.4f", $0) }
            cells.append(r.coldRecall20.map { String(format: "%.4f", $0) } ?? "—")
            cells.append(String(format: "%.4f", r.coverage20))
            cells.append(String(format: "%.2f", r.novelty20))
            cells.append(r.mae.map { String(format: "%.4f", $0) } ?? "—")
            cells.append(r.rmse.map { String(format: "%.4f", $0) } ?? "—")
            cells.append(String(format: "%.2f", row.seconds))
            table.append(cells)
        }
        let widths = header.indices.map { column in table.map { $0[column].count }.max()! }
        for line in table {
            context.print(line.enumerated().map { column, cell in
                column == 0 ? cell.padding(toLength: widths[0], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[column] - cell.count) + cell
            }.joined(separator: "  "))
        }
    }

    private func jsonObject<T: Encodable>(_ value: T) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: JSONEncoder().encode(value)) as! [String: Any]
    }
}

/// What `evaluate` measures.
enum EvaluationTask: String, ExpressibleByArgument, CaseIterable {
    case ranking
    case nextItem = "next-item"
}

/// The flags of `evaluate --task next-item`.
struct NextItemOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Minutes of silence that end a listening session.", valueName: "minutes"))
    var sessionGap = ListeningSessions.defaultGapMinutes
    @Option(name: .long, help: ArgumentHelp("Share of sessions, the latest by start time, held out as the test.", valueName: "share"))
    var heldOutShare = 0.1
    @Option(name: .long, help: ArgumentHelp("Share of the remaining sessions, the latest, held out as the validation that chooses settings.", valueName: "share"))
    var validationShare = 0.1
    @Option(name: .long, help: ArgumentHelp("The user–item model the blend mixes in (\(ModelRegistry.names), or none).", valueName: "model"))
    var personal = "rp3beta"
    @Option(name: .long, help: ArgumentHelp("Also report the test on these listeners' sessions: a file with one external user id per line (first tab-separated column; a header line is ignored when it names no user).", valueName: "file"))
    var focusUsers: String?

    func validate() throws {
        guard sessionGap > 0, sessionGap.isFinite else { throw ValidationError("--session-gap must be a positive number of minutes") }
        for (name, value) in [("--held-out-share", heldOutShare), ("--validation-share", validationShare)] {
            guard value > 0, value < 1 else { throw ValidationError("\(name) must lie strictly between 0 and 1, got \(value)") }
        }
        guard personal == "none" || ModelRegistry.entry(ModelKind(rawValue: personal)) != nil else {
            throw ValidationError("--personal: no model '\(personal)'; models: \(ModelRegistry.names), or none")
        }
    }

    func run(store path: String, output: OutputOptions, context: CLIContext) throws {
        var options = NextItemExperiment.Options()
        options.gapMinutes = sessionGap
        options.heldOutShare = heldOutShare
        options.validationShare = validationShare
        options.personalModel = personal == "none" ? nil : ModelKind(rawValue: personal)
        if let focusUsers {
            let text: String
            do { text = try String(contentsOfFile: focusUsers, encoding: .utf8) } catch {
                throw ValidationError("--focus-users: cannot read \(focusUsers): \(error.localizedDescription)")
            }
            options.focusUsers = Set(text.split(whereSeparator: \.isNewline).compactMap { $0.split(separator: "\t").first.map(String.init) })
            options.focusName = URL(fileURLWithPath: focusUsers).deletingPathExtension().lastPathComponent
        }
        let store = try GraphStore.openExisting(path: path)
        let progress = context.logger(label: "evaluate", quiet: output.quiet)
        let report = try NextItemExperiment(options: options).run(store: store) { progress.info("\($0)") }
        if output.json {
            context.print(try JSONOutput.encode(report))
            return
        }
        context.print(
            "next-item, sessions cut at gaps > \(Format.number(report.gapMinutes, digits: 0)) min: \(Format.grouped(report.trainSessions)) train, \(Format.grouped(report.validationSessions)) validation, \(Format.grouped(report.testSessions)) test sessions (\(Format.grouped(report.testPredictions)) predictions)")
        let focus = report.focusName.map { "  \($0): HR@20  MRR@20  start HR@20  start MRR@20" } ?? ""
        context.print("model            HitRate@20   MRR@20  start HR@20  start MRR@20\(focus)   settings (chosen on validation)")
        for row in report.models {
            var line = row.model.padding(toLength: 16, withPad: " ", startingAt: 0)
            line += String(format: " %10.4f %8.4f %12.4f %13.4f", row.test.hitRate, row.test.mrr, row.test.startHitRate, row.test.startMrr)
            if let f = row.focus { line += String(repeating: " ", count: (report.focusName?.count ?? 0) - 3) + String(format: " %10.4f %7.4f %12.4f %13.4f", f.hitRate, f.mrr, f.startHitRate, f.startMrr) }
            context.print(line + "   " + row.settings)
        }
    }
}
