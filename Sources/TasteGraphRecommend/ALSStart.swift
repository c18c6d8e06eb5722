import Foundation
import TasteGraphCore
import TasteGraphModel

/// The GCN's embeddings started at implicit ALS's factors (`TrainingConfig.InitialEmbeddings.als`):
///
/// ```
/// X (U, H), Y (I, H) = ALS(train listens), BM25 weights, H factors, seed = the training seed
/// U_emb ← X · σ / rms(X),   I_emb ← Y · σ / rms(Y),   σ = initScale
/// ```
/// The random start's size with ALS's directions. Everything else (W_x, tag rows, the bias baseline)
/// stays as in `fresh`. Without item ID embeddings only the user rows move.
enum ALSStart {
    /// - Parameter progress: called after each ALS iteration with (done, of).
    /// - Throws: `ModelFitError` when ALS fails (non-finite factors).
    /// - Complexity: one ALS fit (`ALSRecommender.fit`) and O((U + I) · H).
    static func parameters(
        for model: GCNModel<Float>, fresh: [Float], train: ListenTable, identity: ModelIdentity, seed: UInt64,
        progress: (_ iteration: Int, _ of: Int) -> Void = { _, _ in }
    ) throws -> [Float] {
        var settings = ALSConfig()
        settings.factors = model.config.hidden
        settings.seed = seed
        let data = try FitData(userCount: model.userCount, itemCount: model.itemCount, train: train)
        let als = try ALSRecommender.fit(data, identity: identity, config: settings) { progress($0, settings.iterations) }
        var parameters = fresh
        let size = Float(model.config.initScale)
        for (name, factors) in [("userEmbedding", als.userFactors), ("itemEmbedding", als.itemFactors)] {
            guard let entry = model.layout[name] else { continue }
            precondition(entry.count == factors.count, "ALS factors (\(factors.count)) do not fill \(name) (\(entry.count))")
            let rms = (factors.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(1, factors.count))).squareRoot()
            let scale = rms > 0 ? size / Float(rms) : 0
            for k in 0..<factors.count { parameters[entry.offset + k] = factors[k] * scale }
        }
        return parameters
    }
}
