import Foundation
import TasteGraphCore
import TasteGraphGraph
import TasteGraphMetrics

/// The GCN ensembled with EASE (issue 16's "ensembling with EASE" lever): each model's scores standardized
/// per user, then mixed with a weight chosen on the GCN's own validation share.
///
/// ```
/// s_m(u, ·) (I)                        member m's scores for user u (m ∈ {gcn, ease})
/// z_m(u, i) = (s_m(u, i) − μ_m(u)) / σ_m(u)     μ, σ: mean and standard deviation over all I items
/// score(u, i) = (1 − w) · z_gcn(u, i) + w · z_ease(u, i)
/// ```
/// Standardizing puts the two scales (the GCN's dot products, EASE's regression outputs) on one footing
/// without a learned calibration; it keeps each member's ranking, so w = 0 ranks as the GCN and w = 1 as EASE.
///
/// Fitting: the GCN trains with early stopping on `split.validation`; EASE fits on `split.train` (the same
/// listens the GCN learned from); then w is the grid value with the best Recall@20 on that same validation
/// share (ties: the smaller w, the GCN's side). Test listens never take part. Predicted play counts are the
/// GCN's. The file nests both members' model files (`ModelFile` arrays prefixed `gcn/`, `ease/`).
/// Memory: EASE's dense I × I matrix (4·I² bytes) beside the GCN.
public struct GCNEASEBlend: RegisteredModel {
    public struct Config: Codable, Sendable, Equatable {
        /// w, EASE's share; nil chooses it on validation from `weightGrid`.
        public var weight: Double?
        /// The w tried on validation when `weight` is nil, each in [0, 1].
        public var weightGrid: [Double] = stride(from: 0.0, through: 1.0, by: 0.1).map { ($0 * 10).rounded() / 10 }
        public var gcn = GCNSettings()
        public var ease = EASERecommender.Config()
        public init() {}

        enum CodingKeys: String, CodingKey { case weight, weightGrid, gcn, ease }

        /// `weight` is written even when nil (as null), so the registry's defaults name it and an override
        /// `{"weight": 0.5}` is a known setting.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            if let weight { try c.encode(weight, forKey: .weight) } else { try c.encodeNil(forKey: .weight) }
            try c.encode(weightGrid, forKey: .weightGrid)
            try c.encode(gcn, forKey: .gcn)
            try c.encode(ease, forKey: .ease)
        }
    }

    public static let modelKind = ModelKind.gcnEASE
    public static let summary = "the GCN ensembled with EASE: per-user standardized scores mixed with a weight chosen on validation"
    public static var defaultSettings: Config { Config() }
    public static var usesFeatures: Bool { true }
    public static var earlyStops: Bool { true }

    public let gcn: GCNRecommender
    public let ease: EASERecommender
    /// w, EASE's share of the score.
    public let weight: Double
    /// Validation Recall@20 of each grid weight, when w was chosen at fit time (for the record).
    public let validationCurve: [(weight: Double, recall20: Double, ndcg20: Double)]
    public let config: Config
    public var identity: ModelIdentity { gcn.identity }
    public var predictsPlayCounts: Bool { true }

    /// A blend of two fitted members (they must know the same users and items) with EASE's share `weight`.
    public init(gcn: GCNRecommender, ease: EASERecommender, weight: Double, config: Config, validationCurve: [(weight: Double, recall20: Double, ndcg20: Double)] = []) {
        self.gcn = gcn
        self.ease = ease
        self.weight = weight
        self.config = config
        self.validationCurve = validationCurve
    }

    /// - Throws: `ModelFitError` for a weight outside [0, 1], no validation listens to choose w on, or a
    ///   member's fit error.
    public static func fit(_ input: FitInput, settings: Config) throws -> GCNEASEBlend {
        let grid = settings.weight.map { [$0] } ?? settings.weightGrid
        guard !grid.isEmpty, grid.allSatisfy({ $0.isFinite && (0...1).contains($0) }) else {
            throw ModelFitError(message: "gcn-ease: weight and weightGrid values must lie in [0, 1]")
        }
        guard settings.weight != nil || input.split.validation.count > 0 else {
            throw ModelFitError(message: "gcn-ease: choosing the weight needs validation listens (a validationFraction > 0 in gcn.training), or set weight")
        }
        let gcn = try GCNRecommender.fit(input, settings: settings.gcn)
        let ease = try EASERecommender.fit(try input.fitData(), identity: input.identity, config: settings.ease)
        var config = settings
        guard settings.weight == nil else { return GCNEASEBlend(gcn: gcn, ease: ease, weight: settings.weight!, config: config) }
        let heldOut = HeldOut(
            scoring: input.split.validation, excludingItemsOf: input.split.train,
            userCount: input.identity.userIDs.count, itemCount: input.identity.itemIDs.count)
        var curve: [(weight: Double, recall20: Double, ndcg20: Double)] = []
        for w in grid {
            let report = GCNEASEBlend(gcn: gcn, ease: ease, weight: w, config: config).evaluate(heldOut)
            curve.append((w, report.recall20, report.ndcg20))
        }
        let best = curve.indices.reduce(0) { curve[$1].recall20 > curve[$0].recall20 ? $1 : $0 }
        config.weight = curve[best].weight
        return GCNEASEBlend(gcn: gcn, ease: ease, weight: curve[best].weight, config: config, validationCurve: curve)
    }

    /// Standardizes each row of `rows` (count × I) in place: (s − μ) / σ over the row (σ = 0: all zeros).
    public static func standardize(_ rows: UnsafeMutableBufferPointer<Float>, count: Int, itemCount n: Int) -> [(mean: Float, scale: Float)] {
        (0..<count).map { row in
            let base = row * n
            var sum = 0.0, squares = 0.0
            for i in 0..<n { let v = Double(rows[base + i]); sum += v; squares += v * v }
            let mean = sum / Double(max(n, 1))
            let sd = (max(0, squares / Double(max(n, 1)) - mean * mean)).squareRoot()
            let scale = sd > 0 ? Float(1 / sd) : 0
            for i in 0..<n { rows[base + i] = (rows[base + i] - Float(mean)) * scale }
            return (Float(mean), scale)
        }
    }

    public func scores(users: [UserIndex], into out: UnsafeMutableBufferPointer<Float>) {
        let n = itemCount
        var easeRows = [Float](repeating: 0, count: users.count * n)
        gcn.scores(users: users, into: out)
        _ = Self.standardize(out, count: users.count, itemCount: n)
        easeRows.withUnsafeMutableBufferPointer { rows in
            ease.scores(users: users, into: rows)
            _ = Self.standardize(rows, count: users.count, itemCount: n)
            let a = Float(1 - weight), b = Float(weight)
            for k in 0..<(users.count * n) { out[k] = a * out[k] + b * rows[k] }
        }
    }

    public func predictLog1p(user: UserIndex, item: ItemIndex) -> Float { gcn.predictLog1p(user: user, item: item) }

    /// Both members' terms, each scaled as it enters the blended score ((1 − w)/σ_gcn(u), w/σ_ease(u)) and
    /// summed per heard item, largest first.
    public func explain(user: UserIndex, item: ItemIndex, heard: [ItemIndex], count: Int) -> [Contribution] {
        func scale(_ member: any Recommender, _ share: Double) -> Double {
            var row = member.scores(user: user)
            let n = itemCount
            let stats = row.withUnsafeMutableBufferPointer { Self.standardize($0, count: 1, itemCount: n) }
            return share * Double(stats[0].scale)
        }
        let scales = [scale(gcn, 1 - weight), scale(ease, weight)]
        var total: [ItemIndex: Double] = [:]
        for c in gcn.explain(user: user, item: item, heard: heard, count: .max) { total[c.item, default: 0] += c.weight * scales[0] }
        for c in ease.explain(user: user, item: item, heard: heard, count: .max) { total[c.item, default: 0] += c.weight * scales[1] }
        var terms: [Contribution] = []
        for (heardItem, weight) in total where weight > 0 { terms.append(Contribution(item: heardItem, weight: weight)) }
        terms.sort { $0.weight > $1.weight || ($0.weight == $1.weight && $0.item < $1.item) }
        return Array(terms.prefix(count))
    }

    struct Header: Codable {
        var config: Config
        var weight: Double
        var members: [Member]

        struct Member: Codable {
            var prefix: String
            var kind: String
            var header: Data
        }
    }

    /// Writes one model file that nests both members' files (each member's arrays under its prefix).
    public func save(to path: String) throws {
        var members: [Header.Member] = []
        var arrays: [(name: String, values: ModelFile.Values)] = []
        for (prefix, member) in [("gcn/", gcn as any Recommender), ("ease/", ease as any Recommender)] {
            let file = try Self.modelFile(of: member, besides: path)
            members.append(Header.Member(prefix: prefix, kind: file.kind, header: file.header))
            arrays += file.arrays.map { (prefix + $0.name, $0.values) }
        }
        let header = Header(config: config, weight: weight, members: members)
        do {
            try ModelFile(kind: kind.rawValue, header: try JSONEncoder().encode(header), arrays: arrays).write(to: path)
        } catch let error as FileWriteError {
            throw CheckpointError(path: path, reason: "cannot write: \(error.reason)")
        }
    }

    /// A member's `ModelFile`, through its own `save` (to a temporary file beside `path`, removed after).
    private static func modelFile(of member: any Recommender, besides path: String) throws -> ModelFile {
        let temporary = path + ".member-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        try member.save(to: temporary)
        let data = try RecommenderFile.bytes(at: temporary)
        do {
            return try ModelFile.decode(data)
        } catch let error as ModelFileError {
            throw CheckpointError(path: path, reason: "a member's file did not read back: \(error.reason)")
        }
    }

    public init(file: ModelFile, path: String) throws {
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: file.header)
        } catch {
            throw CheckpointError(path: path, reason: "corrupt gcn-ease header: \(error)")
        }
        var loaded: [String: any Recommender] = [:]
        for member in header.members {
            let arrays = file.arrays.filter { $0.name.hasPrefix(member.prefix) }.map { (String($0.name.dropFirst(member.prefix.count)), $0.values) }
            guard let entry = ModelRegistry.entry(ModelKind(rawValue: member.kind)) else {
                throw CheckpointError(path: path, reason: "gcn-ease member of unknown kind '\(member.kind)'")
            }
            loaded[member.prefix] = try entry.load(ModelFile(kind: member.kind, header: member.header, arrays: arrays), path: path)
        }
        guard let gcn = loaded["gcn/"] as? GCNRecommender, let ease = loaded["ease/"] as? EASERecommender else {
            throw CheckpointError(path: path, reason: "a gcn-ease file needs a GCN and an EASE member")
        }
        guard gcn.identity.userIDs == ease.identity.userIDs, gcn.identity.itemIDs == ease.identity.itemIDs else {
            throw CheckpointError(path: path, reason: "its GCN and EASE members know different users or items")
        }
        guard header.weight.isFinite, (0...1).contains(header.weight) else {
            throw CheckpointError(path: path, reason: "blend weight \(header.weight) outside [0, 1]")
        }
        self.init(gcn: gcn, ease: ease, weight: header.weight, config: header.config)
    }
}

extension ModelKind {
    public static let gcnEASE = ModelKind(rawValue: "gcn-ease")
}
