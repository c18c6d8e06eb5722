import Foundation
import TasteGraphCore

/// How an arm treats what a listener did since the model was trained.
public enum LiveMode: String, Codable, Sendable, CaseIterable {
    /// Live listens are folded into the model (the user's next list is ranked from the new history).
    case foldIn = "fold-in"
    /// The model's representation of the user stays as trained; songs heard (and hidden) since are left out.
    case filter
    /// The list the model gave at training time, as a nightly batch job would serve it: live events ignored.
    case off
}

/// One arm of an experiment: a name, a share of the experiment's traffic, and what answers: a model file
/// (default: the server's `--model`) or a policy, and how live events reach it.
public struct ArmDefinition: Codable, Sendable, Equatable {
    public var name: String
    /// Fraction of the experiment's traffic, in [0, 1]; an experiment's shares sum to 1.
    public var share: Double
    /// Model file, relative to the experiment file's folder (nil: the server's model).
    public var model: String?
    /// A per-segment policy answering this arm (inline); its `model` is the personal model.
    public var policy: PolicyDefinition?
    /// A policy file (JSON, relative to the experiment file's folder), instead of an inline `policy`.
    public var policyFile: String?
    /// Default `fold-in`.
    public var live: LiveMode?

    public init(name: String, share: Double, model: String? = nil, policy: PolicyDefinition? = nil, live: LiveMode? = nil) {
        self.name = name
        self.share = share
        self.model = model
        self.policy = policy
        self.live = live
    }

    /// The model file this arm's personal answers come from (nil: the server's).
    public var modelPath: String? { policy?.model ?? model }
    public var liveMode: LiveMode { live ?? .foldIn }
}

/// Where an experiment sits in the traffic: the share `[from, to)` of a layer's users (hashed with the
/// layer's name). Experiments of one layer take disjoint shares, so a user is in at most one of them.
public struct TrafficSlice: Codable, Sendable, Equatable {
    public var layer: String
    public var from: Double
    public var to: Double

    public init(layer: String = "default", from: Double = 0, to: Double = 1) {
        self.layer = layer
        self.from = from
        self.to = to
    }
}

/// An experiment: its name, the salt of its user hash, its arms in order, and which arm is the control
/// (the report compares every other arm with it).
///
/// **Assignment.** A user's bucket is the first 8 bytes of SHA-256(`salt` + "\n" + user id), big-endian,
/// modulo `TrafficSplit.buckets` (10,000); the arms own consecutive bucket ranges in file order, arm *i*
/// from ⌊10,000·(s₁+…+sᵢ₋₁)⌉ to ⌊10,000·(s₁+…+sᵢ)⌉. So an arm depends only on the salt, the user and the
/// shares up to its own: editing an arm's model, policy or live mode moves nobody; changing shares moves
/// only users whose bucket changes owner — growing arm *i* at the expense of arm *i*+1 moves exactly the
/// users the new share needs, from *i*+1 to *i*, and never touches arms before *i*. Keep the arm that
/// absorbs changes (the rest of traffic, or the old system) last. Restarts and reloads never move anyone:
/// nothing but the file decides.
public struct ExperimentDefinition: Codable, Sendable, Equatable {
    public var name: String
    public var salt: String
    /// The arm others are compared with (default: the first arm).
    public var control: String?
    public var arms: [ArmDefinition]
    /// Default: all of layer "default".
    public var traffic: TrafficSlice?

    public init(name: String, salt: String, control: String? = nil, arms: [ArmDefinition], traffic: TrafficSlice? = nil) {
        self.name = name
        self.salt = salt
        self.control = control
        self.arms = arms
        self.traffic = traffic
    }

    public var controlArm: String { control ?? arms.first?.name ?? "" }
    public var slice: TrafficSlice { traffic ?? TrafficSlice() }

    /// The arm a user is in (every user of the experiment's slice is in exactly one).
    public func arm(for user: String) -> ArmDefinition {
        let bucket = TrafficSplit.bucket(of: user, salt: salt)
        var upper = 0.0
        for arm in arms {
            upper += arm.share
            if bucket < TrafficSplit.boundary(upper) { return arm }
        }
        return arms[arms.count - 1]
    }

    /// Checks names, shares, the control and the traffic slice.
    /// - Throws: `ExperimentError` naming the field.
    public func validate() throws {
        func fail(_ field: String, _ detail: String) -> ExperimentError { ExperimentError(field: field, detail: detail) }
        guard !name.isEmpty, !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == "/" }) else {
            throw fail("name", "must be non-empty, without '/' or control characters")
        }
        guard !salt.isEmpty else { throw fail("salt", "must be non-empty (a new salt reshuffles every user)") }
        guard !arms.isEmpty else { throw fail("arms", "name at least one arm") }
        var seen = Set<String>()
        for (index, arm) in arms.enumerated() {
            guard !arm.name.isEmpty, !arm.name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw fail("arms[\(index)].name", "must be non-empty, without control characters")
            }
            guard seen.insert(arm.name).inserted else { throw fail("arms[\(index)].name", "'\(arm.name)' is used twice") }
            guard arm.share.isFinite, (0...1).contains(arm.share) else { throw fail("arms[\(index)].share", "must be between 0 and 1, got \(arm.share)") }
            guard arm.policy == nil || arm.policyFile == nil else { throw fail("arms[\(index)].policy", "give policy or policy_file, not both") }
            guard arm.policy == nil || arm.model == nil else {
                throw fail("arms[\(index)].model", "a policy arm names its personal model in the policy's model")
            }
            if let policy = arm.policy { try policy.validate(field: "arms[\(index)].policy") }
        }
        let total = arms.reduce(0) { $0 + $1.share }
        guard abs(total - 1) < 1e-6 else { throw fail("arms", "shares must sum to 1, got \(total)") }
        if let control { guard seen.contains(control) else { throw fail("control", "no arm is named '\(control)'") } }
        let slice = self.slice
        guard slice.from.isFinite, slice.to.isFinite, 0 <= slice.from, slice.from < slice.to, slice.to <= 1 else {
            throw fail("traffic", "needs 0 ≤ from < to ≤ 1, got [\(slice.from), \(slice.to))")
        }
    }

    /// Reads an experiment file: JSON with snake_case keys; model and policy paths are resolved against the
    /// file's folder, and policy files are read in.
    /// - Throws: `ExperimentError` naming the file and field.
    public static func load(path: String) throws -> ExperimentDefinition {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ExperimentError(field: "experiment", detail: "cannot read \(path)")
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            var definition = try decoder.decode(ExperimentDefinition.self, from: data)
            for index in definition.arms.indices {
                var arm = definition.arms[index]
                arm.model = arm.model.map { resolve($0, in: folder) }
                if arm.policyFile != nil && arm.policy != nil {
                    throw ExperimentError(field: "arms[\(index)].policy", detail: "give policy or policy_file, not both")
                }
                if let file = arm.policyFile {
                    let policyPath = resolve(file, in: folder)
                    arm.policy = try loadPolicy(path: policyPath)
                    arm.policyFile = nil
                } else if var policy = arm.policy {
                    policy.model = policy.model.map { resolve($0, in: folder) }
                    arm.policy = policy
                }
                definition.arms[index] = arm
            }
            try definition.validate()
            return definition
        } catch let error as ExperimentError {
            throw ExperimentError(field: error.field, detail: error.detail, file: error.file ?? path)
        } catch let error as DecodingError {
            throw ExperimentError(field: "experiment", detail: Self.describe(error), file: path)
        }
    }

    /// Reads a policy file (JSON, snake_case, a `PolicyDefinition`); its `model` is resolved against the
    /// file's folder.
    /// - Throws: `ExperimentError` naming the file and field.
    public static func loadPolicy(path: String) throws -> PolicyDefinition {
        guard let data = FileManager.default.contents(atPath: path) else { throw ExperimentError(field: "policy", detail: "cannot read \(path)") }
        do {
            var policy = try decoder.decode(PolicyDefinition.self, from: data)
            policy.model = policy.model.map { resolve($0, in: URL(fileURLWithPath: path).deletingLastPathComponent()) }
            try policy.validate(field: "policy")
            return policy
        } catch let error as ExperimentError {
            throw ExperimentError(field: error.field, detail: error.detail, file: path)
        } catch let error as DecodingError {
            throw ExperimentError(field: "policy", detail: Self.describe(error), file: path)
        }
    }

    /// The definition as stored beside its exposures (sorted keys, snake_case).
    public var json: String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(self)).flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
    }

    /// Parses a stored `json`.
    public static func decode(json: String) throws -> ExperimentDefinition {
        try decoder.decode(ExperimentDefinition.self, from: Data(json.utf8))
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }

    static func resolve(_ path: String, in folder: URL) -> String {
        path.hasPrefix("/") ? path : folder.appendingPathComponent(path).standardizedFileURL.path
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context.codingPath + [key])): missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

/// A bad experiment or policy file, naming the field.
public struct ExperimentError: Error, CustomStringConvertible, Sendable, Equatable {
    public let field: String
    public let detail: String
    public var file: String?

    public init(field: String, detail: String, file: String? = nil) {
        self.field = field
        self.detail = detail
        self.file = file
    }

    public var description: String { (file.map { "\($0): " } ?? "") + "\(field): \(detail)" }
}

/// Users to buckets: a salted hash, the same on every machine and at every start.
public enum TrafficSplit {
    /// Buckets per salt: shares resolve to 0.01 %.
    public static let buckets = 10_000

    /// The user's bucket in [0, `buckets`) under `salt`: SHA-256(salt + "\n" + user), first 8 bytes
    /// big-endian, modulo `buckets`.
    public static func bucket(of user: String, salt: String) -> Int {
        var hash = SHA256()
        hash.update(Array(salt.utf8))
        hash.update([0x0A])
        hash.update(Array(user.utf8))
        let digest = hash.finalize()
        var value: UInt64 = 0
        for byte in digest.prefix(8) { value = value << 8 | UInt64(byte) }
        return Int(value % UInt64(buckets))
    }

    /// The first bucket beyond a cumulative share.
    static func boundary(_ cumulative: Double) -> Int { Int((cumulative * Double(buckets)).rounded()) }
}

/// The experiments a server runs: at most one layer (see `route`), experiments on disjoint slices of it.
public struct ExperimentSet: Sendable, Equatable {
    public let experiments: [ExperimentDefinition]

    /// - Throws: `ExperimentError` when two names clash, experiments sit on different layers, or their
    ///   slices overlap.
    /// No experiment: every request is answered by the server's model.
    public init() {
        experiments = []
    }

    public init(_ experiments: [ExperimentDefinition]) throws {
        var names = Set<String>()
        for experiment in experiments {
            guard names.insert(experiment.name).inserted else {
                throw ExperimentError(field: "name", detail: "two experiments are named '\(experiment.name)'")
            }
        }
        // One layer: every arm decides the whole list (model and policy), so two experiments that both
        // held a user would both decide it. Orthogonal layers need arms that change disjoint parts of the
        // answer, which these arms do not; several experiments therefore share one layer's traffic.
        if let first = experiments.first, let other = experiments.first(where: { $0.slice.layer != first.slice.layer }) {
            throw ExperimentError(
                field: "traffic.layer",
                detail: "'\(other.name)' is on layer '\(other.slice.layer)', '\(first.name)' on '\(first.slice.layer)': run experiments on one layer, on disjoint from/to shares")
        }
        let sorted = experiments.sorted { $0.slice.from < $1.slice.from }
        for (a, b) in zip(sorted, sorted.dropFirst()) where TrafficSplit.boundary(b.slice.from) < TrafficSplit.boundary(a.slice.to) {
            throw ExperimentError(field: "traffic", detail: "'\(a.name)' and '\(b.name)' overlap; give them disjoint from/to shares of layer '\(a.slice.layer)'")
        }
        self.experiments = experiments
    }

    public var isEmpty: Bool { experiments.isEmpty }

    /// The experiment and arm serving `user`, or nil when the user is in no experiment's slice.
    public func route(_ user: String) -> (experiment: ExperimentDefinition, arm: ArmDefinition)? {
        guard let layer = experiments.first?.slice.layer else { return nil }
        let bucket = TrafficSplit.bucket(of: user, salt: "layer:" + layer)
        for experiment in experiments
        where TrafficSplit.boundary(experiment.slice.from) <= bucket && bucket < TrafficSplit.boundary(experiment.slice.to) {
            return (experiment, experiment.arm(for: user))
        }
        return nil
    }

    public func experiment(named name: String) -> ExperimentDefinition? { experiments.first { $0.name == name } }

    /// Every model file an arm names (policies' personal models included), without repeats.
    public var modelPaths: [String] {
        var seen = Set<String>()
        return experiments.flatMap(\.arms).compactMap(\.modelPath).filter { seen.insert($0).inserted }
    }
}
