import BLAS
import Foundation
import TasteGraphCore
import TasteGraphModel

/// A trained GCN checkpoint as the start of a new training run on the store as it is now (`train
/// --warm-start`): the users and items it knows keep their learned rows, matched by external id; the ones
/// the store gained since get the usual fresh rows.
///
/// ```
/// for each entry of the new layout:
///   user rows   (userEmbedding, userBias)             row u ← old row of u's external id, or fresh
///   item rows   (itemEmbedding, itemBias, rankBias)   row i ← old row of i's external id, or fresh
///   shared      (textProjection, W_l, dotScale, μ)    ← old values (same shape: same architecture)
///   b_u, b_i, μ with trainBiases off                  ← fresh: the bias baseline on the new listens,
///                                                       as a cold run would hold them
/// ```
/// "Fresh" is `Trainer.freshParameters()`: seeded N(0, initScale²) embeddings and the bias baseline, so
/// a new user or item starts exactly as in a cold run with the same seed. The optimizer's moments are not
/// stored in checkpoints, so AdamW starts afresh.
public struct GCNWarmStart: Sendable {
    /// The checkpoint training starts from.
    public let previous: Checkpoint
    /// For each user of the new identity, its row in `previous`, or nil for a user the checkpoint does not know.
    public let userSources: [Int?]
    /// For each item of the new identity, its row in `previous`, or nil for a new item.
    public let itemSources: [Int?]

    /// Users and items the checkpoint knows (kept) and those it does not (new, freshly initialized).
    public var keptUsers: Int { userSources.count(where: { $0 != nil }) }
    public var keptItems: Int { itemSources.count(where: { $0 != nil }) }
    public var newUsers: Int { userSources.count - keptUsers }
    public var newItems: Int { itemSources.count - keptItems }

    /// The fields of `GCNConfig` that shape the parameters or the forward pass: a warm start keeps them
    /// as the checkpoint has them. The loss weights and bias training may change.
    public static let architectureFields = ["hidden", "itemEmbeddings", "textFeatures", "layerWeights", "activation", "combineLayers"]

    /// Matches `previous`'s users and items to `identity`'s by external id.
    /// - Throws: `WarmStartError` when the two share no item (a model of another dataset).
    /// - Complexity: O(U + I) hashing.
    public init(previous: Checkpoint, identity: ModelIdentity) throws {
        self.previous = previous
        userSources = Self.sources(previous.header.userIDs, identity.userIDs)
        itemSources = Self.sources(previous.header.itemIDs, identity.itemIDs)
        guard itemSources.contains(where: { $0 != nil }) else {
            throw WarmStartError(
                message: "the model shares no item with this store (\(previous.header.itemIDs.count) items, none among the store's \(identity.itemIDs.count)): it was trained on another dataset; train cold (without --warm-start)")
        }
    }

    private static func sources(_ old: [String], _ new: [String]) -> [Int?] {
        var position: [String: Int] = [:]
        position.reserveCapacity(old.count)
        for (index, id) in old.enumerated() { position[id] = index }
        return new.map { position[$0] }
    }

    /// The architecture fields (`architectureFields`) whose value in `config` differs from the checkpoint's,
    /// with both values: what a warm start cannot change.
    public func conflicts(with config: GCNConfig) -> [(field: String, checkpoint: String, requested: String)] {
        let old = previous.header.model
        let pairs: [(String, String, String)] = [
            ("hidden", "\(old.hidden)", "\(config.hidden)"),
            ("itemEmbeddings", "\(old.itemEmbeddings)", "\(config.itemEmbeddings)"),
            ("textFeatures", "\(old.textFeatures)", "\(config.textFeatures)"),
            ("layerWeights", "\(old.layerWeights)", "\(config.layerWeights)"),
            ("activation", old.activation.rawValue, config.activation.rawValue),
            ("combineLayers", "\(old.combineLayers)", "\(config.combineLayers)"),
        ]
        return pairs.filter { $0.1 != $0.2 }.map { (field: $0.0, checkpoint: $0.1, requested: $0.2) }
    }

    /// The start parameters for `model` (built on the new identity's users and items): `fresh` with every
    /// row and shared weight the checkpoint holds copied in (see the type's table).
    ///
    /// Shapes: fresh (model.layout.count) → (model.layout.count); old user/item rows (·, C) → new rows (·, C).
    /// - Throws: `WarmStartError` when the model's users and items are not this warm start's, or an entry's
    ///   width differs from the checkpoint's (another architecture or feature width).
    public func parameters(for model: GCNModel<Float>, fresh: [Float]) throws -> [Float] {
        guard model.userCount == userSources.count, model.itemCount == itemSources.count, fresh.count == model.layout.count else {
            throw WarmStartError(message: "the model to warm-start has other users or items than the store it was matched to")
        }
        let oldLayout = previous.header.layout
        let old = previous.parameters
        var parameters = fresh
        let baselineBiases: Set<String> = model.config.trainBiases ? [] : ["userBias", "itemBias", "globalMean"]
        for entry in model.layout.entries where !baselineBiases.contains(entry.name) {
            guard let source = oldLayout[entry.name] else { continue }
            guard source.columns == entry.columns else {
                throw WarmStartError(
                    message: "parameter '\(entry.name)' has \(source.columns) columns in the checkpoint and \(entry.columns) in this run (another architecture or feature width)")
            }
            let rowSources: [Int?]
            switch entry.name {
            case "userEmbedding", "userBias": rowSources = userSources
            case "itemEmbedding", "itemBias", "rankBias": rowSources = itemSources
            default:
                guard source.rows == entry.rows else {
                    throw WarmStartError(
                        message: "parameter '\(entry.name)' is \(source.rows)×\(source.columns) in the checkpoint and \(entry.rows)×\(entry.columns) in this run (another feature width: use the checkpoint's --features)")
                }
                parameters.replaceSubrange(entry.range, with: old[source.range])
                continue
            }
            let c = entry.columns
            for (row, from) in rowSources.enumerated() {
                guard let from, from < source.rows else { continue }
                let target = entry.offset + row * c
                let origin = source.offset + from * c
                parameters.replaceSubrange(target..<(target + c), with: old[origin..<(origin + c)])
            }
        }
        return parameters
    }
}

/// A checkpoint that cannot start this training run (another dataset, another architecture): a usage error.
public struct WarmStartError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}
