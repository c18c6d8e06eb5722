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
    /// Appends exposures in one transaction (all or nothing).
    /// - Throws: `LiveWriteError` (.invalid) naming the element for an empty user or an item id holding a
    ///   line break; `StoreError` when another process holds the write lock.
    /// - Complexity: O(B) inserts for B exposures.
    public func appendExposures(_ batch: [Exposure]) throws {
        for (index, exposure) in batch.enumerated() {
            try LiveValidation.checkText(exposure.user, index: index, field: "user")
            for item in exposure.items where item.isEmpty || item.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D }) {
                throw LiveWriteError(kind: .invalid, index: index, field: "items", value: item, reason: "an item id must be non-empty and hold no line break")
            }
        }
        guard !batch.isEmpty else { return }
        try transaction { try insertExposures(batch) }
    }

    /// Inserts exposures inside the caller's transaction.
    func insertExposures(_ batch: [Exposure]) throws {
        let insert = try cached("INSERT INTO exposures(at, user_id, experiment, arm, model_version, route, items) VALUES (?, ?, ?, ?, ?, ?, ?)")
        for exposure in batch {
            insert.bind(1, exposure.at)
            insert.bind(2, exposure.user)
            insert.bind(3, exposure.experiment)
            insert.bind(4, exposure.arm)
            insert.bind(5, exposure.modelVersion)
            insert.bind(6, exposure.route)
            insert.bind(7, exposure.items.joined(separator: "\n"))
            _ = try insert.executeBound()
        }
    }

    /// The exposures of one experiment (`""`: lists no experiment routed), in the order served.
    /// - Complexity: O(exposures of the experiment), through its index.
    public func exposures(experiment: String) throws -> [Exposure] {
        var rows: [Exposure] = []
        let query = try db.prepare("SELECT at, user_id, arm, model_version, route, items FROM exposures WHERE experiment = ? ORDER BY id")
        query.bind(1, experiment)
        try query.query { row in
            let items = row.text(5) ?? ""
            rows.append(
                Exposure(
                    at: row.int64(0), user: row.text(1) ?? "", experiment: experiment, arm: row.text(2) ?? "", modelVersion: row.text(3) ?? "",
                    route: row.text(4) ?? "", items: items.isEmpty ? [] : items.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)))
        }
        return rows
    }

    /// How many exposures are stored, over every experiment.
    public func exposureCount() throws -> Int {
        Int(try db.integer("SELECT count(*) FROM exposures"))
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
