import SQLite
import TasteGraphCore

/// One recommendation list served: who saw which items, in which order, when, and what answered.
///
/// `user` and `items` are external ids (a list can reach a user the store does not hold yet). `experiment`
/// is empty when no experiment routed the request; `arm` then names the model alone ("default").
public struct Exposure: Sendable, Equatable, Codable {
    /// Event time of the exposure, Unix seconds.
    public var at: Int64
    public var user: String
    public var experiment: String
    public var arm: String
    /// The answering model's version (`ServedModel.version`).
    public var modelVersion: String
    /// What answered inside the arm: `model`, `cold_start`, or a policy's route (`low_engagement`, …).
    public var route: String
    /// External item ids, best first.
    public var items: [String]

    public init(at: Int64, user: String, experiment: String, arm: String, modelVersion: String, route: String, items: [String]) {
        self.at = at
        self.user = user
        self.experiment = experiment
        self.arm = arm
        self.modelVersion = modelVersion
        self.route = route
        self.items = items
    }
}

/// An experiment as a server last started it: its name and its JSON definition (the experiment file's
/// content, normalised), so a report can name the arms and the control without the file.
public struct StoredExperiment: Sendable, Equatable, Codable {
    public let name: String
    public let definition: String
    /// Unix seconds.
    public let startedAt: Int64
}

extension GraphStore {
    /// Appends exposures in one transaction (all or nothing), as one chunk of journal lines.
    /// - Throws: `LiveWriteError` (.invalid) naming the element for an empty user or a field holding a
    ///   control character; `StoreError` when another process holds the write lock.
    /// - Complexity: O(B) for B exposures.
    public func appendExposures(_ batch: [Exposure]) throws {
        var lines: [UInt8] = []
        for (index, exposure) in batch.enumerated() {
            try LiveValidation.checkText(exposure.user, index: index, field: "user")
            do {
                lines += try ExposureJournal.line(exposure, at: exposure.at)
            } catch let error as LiveWriteError {
                throw LiveWriteError(kind: .invalid, index: index, field: error.field, value: error.value, reason: error.reason)
            }
        }
        guard !batch.isEmpty else { return }
        try transaction { try insertExposureChunk(lines, count: batch.count) }
    }

    /// Inserts one chunk of journal lines inside the caller's transaction.
    func insertExposureChunk(_ lines: [UInt8], count: Int) throws {
        let insert = try cached("INSERT INTO exposure_chunks(count, lines) VALUES (?, ?)")
        insert.bind(1, count)
        lines.withUnsafeBytes { insert.bindBlob(2, $0) }
        _ = try insert.executeBound()
    }

    /// The exposures of one experiment (`""`: lists no experiment routed), in the order stored.
    /// - Complexity: O(every stored exposure): the chunks are read and parsed, the experiment's kept.
    public func exposures(experiment: String) throws -> [Exposure] {
        var rows: [Exposure] = []
        try db.prepare("SELECT lines FROM exposure_chunks ORDER BY id").query { row in
            rows += ExposureJournal.parse(Array(row.blob(0))).filter { $0.experiment == experiment }
        }
        return rows
    }

    /// How many exposures are stored, over every experiment.
    public func exposureCount() throws -> Int {
        Int(try db.integer("SELECT coalesce(sum(count), 0) FROM exposure_chunks"))
    }

    /// Records (or replaces) an experiment's definition, as a server starting it does.
    public func recordExperiment(name: String, definition: String, startedAt: Int64) throws {
        try transaction {
            let upsert = try cached("INSERT INTO experiments(name, definition, started_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET definition = excluded.definition, started_at = excluded.started_at")
            upsert.bind(1, name)
            upsert.bind(2, definition)
            upsert.bind(3, startedAt)
            _ = try upsert.executeBound()
        }
    }

    /// The experiment recorded under `name`, or nil.
    public func experiment(named name: String) throws -> StoredExperiment? {
        var found: StoredExperiment?
        let query = try db.prepare("SELECT definition, started_at FROM experiments WHERE name = ?")
        query.bind(1, name)
        try query.query { row in found = StoredExperiment(name: name, definition: row.text(0) ?? "", startedAt: row.int64(1)) }
        return found
    }

    /// The names of every recorded experiment, sorted.
    public func experimentNames() throws -> [String] {
        var names: [String] = []
        try db.prepare("SELECT name FROM experiments ORDER BY name").query { row in names.append(row.text(0) ?? "") }
        return names
    }
}
