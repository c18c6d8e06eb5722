import ArgumentParser
import Foundation
import TasteGraphGraph
import TasteGraphRecommend

extension ALSWeighting: ExpressibleByArgument {}
extension ALSSolver: ExpressibleByArgument {}
extension ModelKind: ExpressibleByArgument {
    /// A registered model's name (`ModelRegistry`).
    public init?(argument: String) {
        guard let entry = ModelRegistry.entry(ModelKind(rawValue: argument.lowercased())) else { return nil }
        self = entry.kind
    }

    public static var allValueStrings: [String] { ModelRegistry.kinds.map(\.rawValue) }
}

/// The baselines' flags, shared by `train --model` and `evaluate`.
struct BaselineOptions: ParsableArguments {
    @Option(name: .long, help: "ALS: latent factors f.") var factors = 64
    @Option(name: .long, help: "ALS: regularization λ on every factor vector.") var regularization = 0.05
    @Option(name: .long, help: "ALS: alternating iterations (each solves all users, then all items).") var iterations = 20
    @Option(name: .long, help: "ALS: input weighting, bm25 (implicit's bm25_weight) or confidence (1 + α·log1p).")
    var alsWeighting: ALSWeighting = .bm25
    @Option(name: .long, help: "ALS: α of the confidence weighting.") var alpha = 40.0
    @Option(name: .long, help: "ALS: BM25's K1.") var bm25K1 = 100.0
    @Option(name: .long, help: "ALS: BM25's B.") var bm25B = 0.8
    @Option(name: .long, help: "ALS: row solver, cg (conjugate gradient, as implicit) or cholesky (exact, LAPACK).")
    var solver: ALSSolver = .cg
    @Option(name: .long, help: "ALS: conjugate-gradient steps per row and half-iteration.") var cgSteps = 3
    @Option(name: .long, help: "Item-KNN: neighbours K kept per item.") var neighbors = 50
    @Option(name: .long, help: "Item-KNN: play-count weighting before cosine, log1p or raw.") var knnWeighting: EdgeWeighting = .log1p

    func validate() throws {
        guard factors > 0 else { throw ValidationError("--factors must be positive") }
        guard regularization >= 0 else { throw ValidationError("--regularization must be ≥ 0") }
        guard iterations >= 0 else { throw ValidationError("--iterations must be ≥ 0") }
        guard alpha > 0 else { throw ValidationError("--alpha must be positive") }
        guard cgSteps > 0 else { throw ValidationError("--cg-steps must be positive") }
        guard neighbors > 0 else { throw ValidationError("--neighbors must be positive") }
        guard bm25K1 >= 0, (0...1).contains(bm25B) else { throw ValidationError("--bm25-k1 must be ≥ 0 and --bm25-b in [0, 1]") }
    }

    func settings(seed: UInt64, threads: Int) -> BaselineSettings {
        var settings = BaselineSettings()
        settings.als.factors = factors
        settings.als.regularization = regularization
        settings.als.iterations = iterations
        settings.als.weighting = alsWeighting
        settings.als.alpha = alpha
        settings.als.bm25K1 = bm25K1
        settings.als.bm25B = bm25B
        settings.als.solver = solver
        settings.als.cgSteps = cgSteps
        settings.als.seed = seed
        settings.als.threads = threads
        settings.itemKNN.neighbors = neighbors
        settings.itemKNN.weighting = knnWeighting
        settings.coldStart.seed = seed
        return settings
    }
}

/// One entry of `evaluate --models`: a model kind, with ALS's weighting pinned by `als-bm25` / `als-conf`.
struct ModelChoice: Hashable {
    let name: String
    let kind: ModelKind
    let alsWeighting: ALSWeighting?

    /// Every registered model, plus ALS with its weighting pinned.
    static var names: [String] { ModelRegistry.kinds.map(\.rawValue) + ["als-bm25", "als-conf"] }

    init?(_ name: String) {
        self.name = name
        switch name {
        case "als-bm25": kind = .als; alsWeighting = .bm25
        case "als-conf", "als-confidence": kind = .als; alsWeighting = .confidence
        default:
            guard let kind = ModelKind(argument: name) else { return nil }
            self.kind = kind
            alsWeighting = nil
        }
    }

    static func parse(_ list: String) throws -> [ModelChoice] {
        var out: [ModelChoice] = []
        for raw in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !raw.isEmpty {
            guard let choice = ModelChoice(raw.lowercased()) else {
                throw ValidationError("--models: unknown model '\(raw)'; choose from \(names.joined(separator: ", "))")
            }
            if !out.contains(choice) { out.append(choice) }
        }
        guard !out.isEmpty else { throw ValidationError("--models: name at least one model") }
        return out
    }
}
