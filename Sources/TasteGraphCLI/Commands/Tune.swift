import ArgumentParser
import Foundation
import TasteGraphCore
import TasteGraphGraph
import TasteGraphMetrics
import TasteGraphRecommend
import TasteGraphStore
import TasteGraphSupport

extension TuningObjective: ExpressibleByArgument {}

/// `tastegraph tune`: a seeded search over one model's settings, scored on validation only.
struct Tune: ContextCommand {
    static let configuration = CommandConfiguration(
        abstract: "Choose a model's settings by a seeded random search scored on a validation share of the train listens (never the test listens).",
        discussion: """
            The train listens of the split (--train FILE --test FILE, or the store's seeded holdout) are cut in two: \
            a seeded --tune-fraction of each user's listens scores the trials, the rest fits them. The test \
            listens are read only to know which listens are train, and never scored. Trial 0 is the model's \
            defaults (with the flags below); trials 1 … --budget−1 draw every tuned setting from its range:

            \(Self.spaceText)

            The best trial by --metric (ties: the earlier) is written to --out DIR as MODEL.json, which \
            `train --config DIR/MODEL.json` and `evaluate --tuned DIR` read. The file records the split's \
            fingerprint, so it is refused on another split (whose test listens it may have trained on).

            --json prints one object: model, objective, the chosen settings, its validation figures and every trial.
            """
    )

    static var spaceText: String {
        ModelRegistry.kinds.map { kind in
            let space = SearchSpace.of(kind)
            return "\(kind): " + (space.isEmpty ? "nothing to tune" : space.map { "\($0.name) \($0.rangeDescription)" }.joined(separator: "; "))
        }.joined(separator: "\n")
    }

    @OptionGroup var store: StoreOption
    @OptionGroup var split: SplitOptions
    @Option(name: .long, help: ArgumentHelp("The model to tune, from the registry (\(ModelRegistry.names)).", valueName: "model"))
    var model: ModelKind
    @Option(name: .long, help: "Trials, the defaults included (each fits the model once).") var budget = 16
    @Option(name: .long, help: "Seed of the validation share and of the draws: the same seed, the same trials.") var seed: UInt64 = 0
    @Option(name: .long, help: "Share of each user's train listens that scores the trials, in (0, 1) (the GCN then carves its early-stopping --validation-fraction from the rest).") var tuneFraction = 0.1
    @Option(name: .long, help: "The figure maximized on validation: recall@20 or ndcg@20.") var metric: TuningObjective = .recall20
    @Option(name: .long, help: ArgumentHelp("Folder to write MODEL.json into (created if missing).", valueName: "dir")) var out: String
    @Option(name: .long, help: "Worker threads for ALS.") var threads = 2
    @OptionGroup var features: FeatureOptions
    @OptionGroup(title: "Baselines (the settings every trial starts from)") var baselines: BaselineOptions
    @OptionGroup(title: "GCN (the settings every trial starts from)") var gcn: GCNOptions
    @OptionGroup var force: ForceOption
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard budget >= 1 else { throw ValidationError("--budget must be at least 1 (trial 0 is the defaults)") }
        guard tuneFraction > 0 && tuneFraction < 1 else { throw ValidationError("--tune-fraction must be in (0, 1)") }
        guard threads > 0 else { throw ValidationError("--threads must be positive") }
    }

    func run(context: CLIContext) throws {
        let outputs = force.outputGuard(store: store.store)
        let path = out + "/" + model.rawValue + ".json"
        try outputs.checkFolder(out, files: [model.rawValue + ".json"])
        let graphStore = try GraphStore.openExisting(path: store.store)
        let catalog = try graphStore.catalog()
        let setup = try ExperimentSetup(
            catalog: catalog, dataFingerprint: try graphStore.dataFingerprint(), split: try split.choice(catalog: catalog), seed: seed
        ) { try graphStore.listens() }
        guard setup.split.train.count > 0 else { throw ValidationError("the split has no train listens") }
        let carved = InteractionSplit.carvingValidation(train: setup.split.train, test: ListenTable(), fraction: tuneFraction, seed: seed)
        guard carved.validation.count > 0 else {
            throw ValidationError("--tune-fraction \(tuneFraction) leaves no validation listens (users need at least 2 train listens); raise it")
        }
        guard let entry = ModelRegistry.entry(model) else { throw ValidationError("unknown model \(model)") }
        var input = FitInput(split: carved, identity: setup.identity, itemActive: catalog.itemActive)
        if entry.usesFeatures {
            let matrix = try features.matrix(catalog: catalog, store: graphStore, context: context)
            input.features = (matrix.matrix, matrix.name)
        }
        let base: [String: Any]
        if model == .gcn || model == .gcnEASE {
            let settings = try gcn.settings(seed: seed, base: GCNOptions.defaults(store: graphStore, catalog: catalog))
            // The relations every trial may weigh: those the flags ask for, or all the store holds when the
            // search draws their weights.
            var wanted = settings.model
            if SearchSpace.of(.gcn).contains(where: { $0.path.last == "friendWeight" }) && wanted.friendWeight == 0 { wanted.friendWeight = 1 }
            if SearchSpace.of(.gcn).contains(where: { $0.path.last == "tagWeight" }) && wanted.tagWeight == 0 { wanted.tagWeight = 1 }
            input.relations = settings.model.usesSideRelations
                ? try GCNOptions.relations(for: settings.model, store: graphStore, catalog: catalog)
                : try? GCNOptions.relations(for: wanted, store: graphStore, catalog: catalog)
            let object = try GCNMember.settingsObject(settings)
            base = model == .gcn ? object : ["gcn": object]
        } else {
            var settings = baselines.settings(seed: seed, threads: threads)
            settings.als.threads = threads
            base = try settings.overrides(for: model)
        }
        let tuner = try Tuner(kind: model, budget: budget, seed: seed, objective: metric, base: base)
        if !output.quiet {
            context.stderr("\(model): \(tuner.candidates.count) trial(s) on \(carved.train.count) fit / \(carved.validation.count) validation listens\n")
        }
        let result = try tuner.run(fitPart: carved.train, validation: carved.validation, input: input) { index, trial in
            guard !output.quiet else { return }
            let values = trial.values.isEmpty ? "defaults" : trial.values.map { "\($0.path.joined(separator: "."))=\($0.value)" }.joined(separator: " ")
            context.stderr(String(format: "  trial %d/%d: validation Recall@20 %.4f  NDCG@20 %.4f  (%.1f s)  %@\n",
                                  index + 1, tuner.candidates.count, trial.validation.recall20, trial.validation.ndcg20, trial.fitSeconds, values))
        }
        let config = TunedConfig(
            result: result, splitFingerprint: setup.split.testFingerprint, dataFingerprint: setup.identity.dataFingerprint ?? "",
            seed: seed, validationFraction: tuneFraction)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try outputs.checkFile(path)
        try config.write(to: path)
        if output.json {
            context.print(try JSONOutput.line(config.object.merging(["config_file": path]) { a, _ in a }))
            return
        }
        let chosen = result.chosen
        context.print(String(format: "%@: chose trial %d of %d, validation Recall@20 %.4f  NDCG@20 %.4f; wrote %@",
                             model.rawValue, result.best + 1, result.trials.count, chosen.validation.recall20, chosen.validation.ndcg20, path))
        context.print("settings: " + (chosen.values.isEmpty ? "the defaults" : chosen.values.map { "\($0.path.joined(separator: "."))=\($0.value)" }.joined(separator: ", ")))
        for failure in result.failures { context.print("failed: \(failure)") }
    }
}
