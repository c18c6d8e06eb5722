import ArgumentParser
import Foundation
import TasteGraphCore
import TasteGraphGraph
import TasteGraphModel
import TasteGraphRecommend
import TasteGraphStore

extension Activation: ExpressibleByArgument {}
extension TrainingConfig.LearningRateSchedule: ExpressibleByArgument {}
extension TrainingConfig.InitialEmbeddings: ExpressibleByArgument {}

/// The GCN's flags, shared by `train` and `evaluate` (so both fit the same model from the same flags).
struct GCNOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("JSON settings file for the GCN ({\"model\": {...}, \"training\": {...}}); flags override it.", valueName: "file"))
    var config: String?
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
    @Option(name: .long, help: "Weight w_F ≥ 0 of the user–user friend edges in Â, each relation normalized by its own degrees; 0 = off (default 0.5 when the store holds friendships, lastfm's user_friends.dat, else 0).")
    var friendWeight: Double?
    @Option(name: .long, help: "Weight w_T ≥ 0 of the item–tag edges in Â, tags as extra nodes with learned embeddings (never recommended); 0 = off (default 2 when the store holds tag assignments on its items' artists, else 0).")
    var tagWeight: Double?
    @Option(name: .long, help: "With --tag-weight: link each item to at most this many of its artist's most frequent tags, ≥ 1 (default 25 when the store's defaults turn tag nodes on, else 10).")
    var tagsPerItem: Int?
    @Option(name: .long, help: "Maximum epochs (default 300).") var epochs: Int?
    @Option(name: .long, help: "Adam learning rate (default 0.01).") var learningRate: Double?
    @Option(name: .long, help: "Decoupled weight decay on embeddings and weights (default 0.5).") var weightDecay: Double?
    @Option(name: .long, help: "Mini-batches (Adam steps) per epoch (default 4).") var batchesPerEpoch: Int?
    @Option(name: .long, help: "Stop after this many validations without improvement (default 20).") var patience: Int?
    @Option(name: .long, help: "Validate every N epochs (default 2).") var validateEvery: Int?
    @Option(name: .long, help: "Share of each user's train listens held out for the GCN's early stopping (default 0.1).") var validationFraction: Double?
    @Option(name: .long, help: "Validate on a seeded sample of this many validation users (default: all); at a million users a full validation scores every user against every song.") var validationUsers: Int?
    @Option(name: .long, help: "λ of the regularized bias baseline the play-count head starts from (default 5).") var biasRegularization: Double?
    @Option(name: .long, help: "Learning-rate schedule: constant, or cosine (from --learning-rate down to a tenth of it at --epochs) (default constant).")
    var learningRateSchedule: TrainingConfig.LearningRateSchedule?
    @Option(name: .long, help: "β ≥ 0 of the BPR negatives: drawn ∝ (1 + train listeners)^β; 0 uniform (default 0), 0.75 popularity-aware.")
    var negativePopularityExponent: Double?
    @Option(name: .long, help: "Start of the user and item embeddings: random (N(0, --init-scale²)), or als (implicit ALS's factors fit on the same train listens first, scaled to the same size; its time counts in the run) (default random).")
    var initialEmbeddings: TrainingConfig.InitialEmbeddings?

    func validate() throws {
        if let hidden, hidden <= 0 { throw ValidationError("--hidden must be positive") }
        if let epochs, epochs <= 0 { throw ValidationError("--epochs must be positive") }
        if let learningRate, !(learningRate > 0) { throw ValidationError("--learning-rate must be positive") }
        if let batchesPerEpoch, batchesPerEpoch <= 0 { throw ValidationError("--batches-per-epoch must be positive") }
        if let validationUsers, validationUsers < 1 { throw ValidationError("--validation-users must be positive, got \(validationUsers)") }
        if let validationFraction, !(0..<1).contains(validationFraction) { throw ValidationError("--validation-fraction must be in [0, 1)") }
        if let friendWeight, !(friendWeight.isFinite && friendWeight >= 0) { throw ValidationError("--friend-weight must be a finite number ≥ 0 (0 turns the friend edges off)") }
        if let tagWeight, !(tagWeight.isFinite && tagWeight >= 0) { throw ValidationError("--tag-weight must be a finite number ≥ 0 (0 turns the tag nodes off)") }
        if let tagsPerItem, tagsPerItem < 1 { throw ValidationError("--tags-per-item must be at least 1") }
        if let negativePopularityExponent, !(negativePopularityExponent.isFinite && negativePopularityExponent >= 0) {
            throw ValidationError("--negative-popularity-exponent must be a finite number ≥ 0 (0: uniform negatives)")
        }
    }

    /// `base` (the defaults, or a warm start's checkpoint settings) ← --config file ← flags (← `seed` when given).
    func settings(seed: UInt64?, base: GCNSettings = GCNSettings()) throws -> GCNSettings {
        var model = base.model
        var training = base.training
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
        if let friendWeight { model.friendWeight = friendWeight }
        if let tagWeight { model.tagWeight = tagWeight }
        if let tagsPerItem { model.tagsPerItem = tagsPerItem }
        if let epochs { training.epochs = epochs }
        if let learningRate { training.learningRate = learningRate }
        if let weightDecay { training.weightDecay = weightDecay }
        if let batchesPerEpoch { training.batchesPerEpoch = batchesPerEpoch }
        if let patience { training.patience = patience }
        if let validateEvery { training.validateEvery = validateEvery }
        if let validationFraction { training.validationFraction = validationFraction }
        if let validationUsers { training.validationUsers = validationUsers }
        if let biasRegularization { training.biasRegularization = biasRegularization }
        if let learningRateSchedule { training.learningRateSchedule = learningRateSchedule }
        if let negativePopularityExponent { training.negativePopularityExponent = negativePopularityExponent }
        if let initialEmbeddings { training.initialEmbeddings = initialEmbeddings }
        if let seed { training.seed = seed }
        return GCNSettings(model: model, training: training)
    }

    /// The relation weights chosen on lastfm-2k's validation share (README, "The GCN over the whole graph"):
    /// friend edges at 0.5, tag nodes at 2, each item linked to its 25 most frequent tags.
    static let validatedFriendWeight = 0.5
    static let validatedTagWeight = 2.0
    /// The quantiles the cold-item calibration tries after training (each fit keeps the best on validation).
    static let validatedColdItemBiasQuantiles = [0.25, 0.5, 0.75, 0.9, 1.0]
    /// Tags linked per item when tag nodes are on (lastfm-2k validation Recall@20: 10 → 0.2757, 25 → 0.2802, 50 → 0.2742).
    static let validatedTagsPerItem = 25

    /// The GCN's defaults for `store`: `GCNSettings()` with the cold-item calibration on, and friend edges and
    /// tag nodes at their validated weights when the store holds friendships (lastfm's user_friends.dat) or tag assignments on its items'
    /// artists; a store without them (a Taste Profile import) keeps both off. A --config file, a tuned
    /// config and the flags go on top, so `--friend-weight 0` still turns them off.
    static func defaults(store: GraphStore, catalog: Catalog) throws -> GCNSettings {
        var settings = GCNSettings()
        // Cold-item calibration, kept only where the validation share prefers it (GCNConfig.coldItemBiasQuantiles).
        settings.model.coldItemBiasQuantiles = validatedColdItemBiasQuantiles
        if try !store.friendPairs().isEmpty { settings.model.friendWeight = validatedFriendWeight }
        if (0..<catalog.itemCount).contains(where: { catalog.itemArtist[$0] >= 0 && !catalog.artistTags[catalog.itemArtist[$0]].isEmpty }) {
            settings.model.tagWeight = validatedTagWeight
            settings.model.tagsPerItem = validatedTagsPerItem
        }
        return settings
    }

    /// The friend and tag relations `model` asks for, from the store (nil when both weights are 0): the
    /// store's friendships between active users, and each item's `tagsPerItem` most frequent tags of its
    /// artist with weight log1p(how many listeners gave the tag); tag nodes are the tags some item carries,
    /// numbered in the store's tag order.
    /// - Throws: `ValidationError` when a weight is set and the store holds no such relation.
    static func relations(for model: GCNConfig, store: GraphStore, catalog: Catalog) throws -> SideRelations? {
        guard model.usesSideRelations else { return nil }
        let friends = model.friendWeight > 0 ? try store.friendPairs().map { ($0.user, $0.friend) } : []
        if model.friendWeight > 0 && friends.isEmpty {
            throw ValidationError("--friend-weight \(model.friendWeight): the store holds no friendships between its active users; import lastfm-2k with user_friends.dat, or use --friend-weight 0")
        }
        var tagEdges: [(item: Int32, tag: Int32, weight: Float)] = []
        var tagNames: [String] = []
        if model.tagWeight > 0 {
            var raw: [(item: Int, tag: Int, count: Int)] = []
            for item in 0..<catalog.itemCount where catalog.itemArtist[item] >= 0 {
                for entry in catalog.artistTags[catalog.itemArtist[item]].prefix(model.tagsPerItem) { raw.append((item, entry.tag, entry.count)) }
            }
            let used = Set(raw.map(\.tag)).sorted()
            guard !used.isEmpty else {
                throw ValidationError("--tag-weight \(model.tagWeight): the store holds no tag assignments on its items' artists; import lastfm-2k with user_taggedartists.dat, or use --tag-weight 0")
            }
            var node: [Int: Int32] = [:]
            for (index, tag) in used.enumerated() { node[tag] = Int32(index) }
            tagNames = used.map { catalog.tagNames.indices.contains($0) ? catalog.tagNames[$0] : "" }
            tagEdges = raw.map { (Int32($0.item), node[$0.tag]!, log1pf(Float($0.count))) }
        }
        return SideRelations(userCount: catalog.userCount, itemCount: catalog.itemCount, friendPairs: friends, tagNames: tagNames, itemTags: tagEdges)
    }

    /// The flag that sets the `GCNConfig` field `field` (for messages).
    static func flag(forModelField field: String) -> String {
        "--" + field.reduce(into: "") { out, c in out += c.isUppercase ? "-" + c.lowercased() : String(c) }
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
}
