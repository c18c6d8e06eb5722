import Foundation
import Synchronization
import TasteGraphCore
import TasteGraphRecommend
import TasteGraphStore

/// The state an answer was computed from (see `LiveServing.answerVersion`).
public struct AnswerVersion: Hashable, Sendable {
    public let snapshot: UUID
    public let generation: UInt64

    /// An answer that depends on the snapshot alone (related artists, similar items): generation 0.
    public init(snapshot: ServingSnapshot) {
        self.init(snapshot: snapshot.id, generation: 0)
    }

    init(snapshot: UUID, generation: UInt64) {
        self.snapshot = snapshot
        self.generation = generation
    }
}

/// A user's state after live events, which replaces the snapshot's history of that user.
public struct LiveUser: Sendable {
    /// Every item the user has played (store item index → total plays): the store's at the first live
    /// event, plus every live listen and like since.
    public var history: [ItemIndex: Float]
    /// Items never to recommend to the user again (store item indices).
    public var disliked: Set<ItemIndex> = []
    /// Store item index → event time (Unix seconds) of the user's latest skip of it.
    public var skippedAt: [ItemIndex: Int64] = [:]
    /// The user folded into the model `foldedFor` names, from `history`.
    public var folded: FoldedUser?
    public var foldedFor = ""
    /// Skips newer than this (event time) hide their item; set by `LiveServing` when it answers.
    var skipHorizon: Int64 = .min
    /// Counts the live events applied to this user: an answer computed at one generation is stale at the next.
    public internal(set) var generation: UInt64 = 0

    /// Disliked items and items skipped after `skipHorizon`.
    public var hidden: Set<ItemIndex> {
        disliked.union(skippedAt.compactMap { $0.value > skipHorizon ? $0.key : nil })
    }
}

/// The live service every front end serves from: a `ServingSnapshot` (store + model, immutable), the
/// state live events added since (users' new listens, folds, dislikes, skips), and the store connection
/// that makes those events durable (listen batches through `ListenCommitter`, which groups concurrent
/// batches into one transaction).
///
/// Reads never wait for writes or reloads: a request takes the current snapshot reference and the user's
/// live state under short locks, then works outside them. Writes go through one store connection, one
/// batch at a time (SQLite has one writer). A reload builds the next snapshot beside the current one and
/// swaps the reference; requests in flight finish on the old one, and the live state carries over (folds
/// are redone against the new model on first use).
public final class LiveServing: Sendable {
    /// How long a skip hides its item: a skip whose event time is within this many seconds of now.
    public let skipCooldown: Int64
    let configuration: Mutex<ServingConfiguration>
    let current: Mutex<ServingSnapshot>
    let users: Mutex<[String: LiveUser]>
    let writer: StoreWriter
    /// Listen batches go through it: grouped into shared transactions, committed off the request threads.
    let committer: ListenCommitter
    /// Served lists go through it (nil when the configuration turns the log off).
    let exposures: ExposureLog?
    /// Held while a snapshot is rebuilt: a reload finding it held is refused, a refresh waits for it.
    let reloadLock = NSLock()
    /// Told the model kind and the time of every fold-in (for metrics).
    let onFold: @Sendable (String, Duration) -> Void

    /// Loads the snapshot and opens the store for live writes.
    /// - Parameter durability: `.processCrash` (a batch survives the process being killed) or `.powerLoss`
    ///   (also the machine losing power: an fsync per batch).
    /// - Throws: what `ServingSnapshot` throws; the store's errors.
    /// - Parameter onFold: told the model kind and the duration of every fold-in.
    public init(
        configuration: ServingConfiguration, durability: Durability = .processCrash, skipCooldown: Int64 = 86_400,
        onFold: @escaping @Sendable (String, Duration) -> Void = { _, _ in }
    ) throws {
        let snapshot = try ServingSnapshot(configuration: configuration)
        let store = try GraphStore.openExisting(path: configuration.storePath)
        try store.setDurability(durability)
        var restored: [String: LiveUser] = [:]
        try Self.restoreFeedback(from: store, snapshot: snapshot, into: &restored)
        self.configuration = Mutex(configuration)
        current = Mutex(snapshot)
        users = Mutex(restored)
        self.skipCooldown = skipCooldown
        self.onFold = onFold
        let startedAt = Int64(Date().timeIntervalSince1970)
        for experiment in configuration.experiments.experiments {
            try store.recordExperiment(name: experiment.name, definition: experiment.json, startedAt: startedAt)
        }
        writer = StoreWriter(store)
        committer = ListenCommitter(writer: writer)
        exposures = configuration.logExposures ? try ExposureLog(storePath: configuration.storePath, writer: writer) : nil
    }

    deinit {
        committer.stop()
        exposures?.stop()
    }

    /// The model file reloads read by default.
    public var modelPath: String { configuration.withLock { $0.modelPath } }

    /// The snapshot serving now.
    public var snapshot: ServingSnapshot { current.withLock { $0 } }

    /// Recommendations for one user, with everything live events changed.
    ///
    /// Under experiments, the user's arm (`ExperimentSet.route`) picks the model, how live events reach it
    /// (`LiveMode`) and the policy; the response names the experiment and arm (and the policy's rule).
    /// Users in no experiment get the server's model with fold-in, under the server's policy when it has one.
    public func recommend(_ request: RecommendationRequest) throws -> RecommendationResponse {
        let snapshot = self.snapshot
        let routed = snapshot.configuration.experiments.route(request.user)
        let policy = routed.map(\.arm.policy) ?? snapshot.configuration.listenerPolicy
        let service = snapshot.service(forModel: routed.map(\.arm.modelPath) ?? policy?.model)
        let mode = routed?.arm.liveMode ?? .foldIn
        var live = mode == .off ? nil : users.withLock { $0[request.user] }
        if var user = live {
            if mode == .filter {
                user.folded = nil
            } else if user.foldedFor != service.model.version {  // after live events, a reload or an arm change
                let start = ContinuousClock.now
                user.folded = service.foldIn(user: request.user, history: user.history)
                if user.folded != nil { onFold(service.model.kind, ContinuousClock.now - start) }
                user.foldedFor = service.model.version
                let refolded = user
                users.withLock { table in  // keep the fold unless a live event changed the user meanwhile
                    guard table[request.user]?.generation == refolded.generation else { return }
                    table[request.user]?.folded = refolded.folded
                    table[request.user]?.foldedFor = refolded.foldedFor
                }
            }
            user.skipHorizon = Int64(Date().timeIntervalSince1970) - skipCooldown
            live = user
        }
        var response = try policy.map { try service.recommend(request, live: live, policy: $0) } ?? service.recommend(request, live: live)
        if let routed { response.experiment = ServedArm(experiment: routed.experiment.name, arm: routed.arm.name) }
        return response
    }

    /// The exposure-log row of serving `response` at `at` (Unix seconds).
    public func exposure(of response: RecommendationResponse, at: Int64) -> Exposure {
        Exposure(
            at: at, user: response.user, experiment: response.experiment?.experiment ?? "", arm: response.experiment?.arm ?? "default",
            modelVersion: response.model.version, route: response.route?.route.rawValue ?? (response.coldStart ? "cold_start" : "model"),
            items: response.recommendations.map(\.item))
    }

    /// Moves every exposure journaled so far into the store's `exposure_chunks` table now (the mover does so
    /// every quarter second; a report does it first).
    /// - Throws: the store's errors.
    public func moveExposures() throws { try exposures?.move() }

    /// The journal entry of serving `response` (its time is given to `log(_:at:)`); checked and encoded once,
    /// so a cached answer logs it at the cost of one write.
    /// - Throws: `ServingError` (invalid, field `user`) for a user id holding a control character.
    public func exposureEntry(of response: RecommendationResponse) throws -> ExposureJournal.Entry {
        do { return try ExposureJournal.entry(exposure(of: response, at: 0)) } catch let error as LiveWriteError {
            throw ServingError(field: error.field, detail: error.reason)
        }
    }

    /// Records a served list from its prepared entry at `at` (Unix seconds), durably: appended to the store's
    /// exposure journal, it survives the process being killed once this returns, and is moved into the
    /// `exposure_chunks` table within a quarter second. Does nothing when the configuration turns the log off.
    /// - Throws: the journal's errors.
    public func log(_ entry: ExposureJournal.Entry, at: Int64) throws {
        try exposures?.append(entry, at: at)
    }

    /// Stops the background writers after their last work: every exposure logged so far is in the store's
    /// table afterwards. A front end calls this once it has stopped serving.
    public func close() {
        exposures?.stop()
        committer.stop()
    }

    /// The metric of experiment `name` over the store as it is now (a read connection of its own).
    /// - Parameter window: seconds after an exposure within which a play counts.
    /// - Throws: `ServingError` (not found) for an experiment the store has not recorded.
    public func report(experiment name: String, window: Int64) throws -> ExperimentReport {
        try exposures?.move()
        let store = try GraphStore.openExisting(path: configuration.withLock { $0.storePath })
        return try ExperimentReport.load(store: store, name: name, window: window)
    }

    /// Whether served lists are recorded (`ServingConfiguration.logExposures`).
    public var logsExposures: Bool { exposures != nil }

    /// The experiments this service routes by.
    public var experiments: ExperimentSet { configuration.withLock { $0.experiments } }

    /// What an answer for `user` depends on besides the request: the snapshot and the user's live
    /// generation. Equal versions give equal answers, so a front end may reuse one; nil when the answer also
    /// depends on the clock (the user has skips, which expire) and must be computed every time.
    public func answerVersion(forUser user: String) -> AnswerVersion? {
        let snapshot = self.snapshot
        guard let live = users.withLock({ $0[user] }) else { return AnswerVersion(snapshot: snapshot.id, generation: 0) }
        return live.skippedAt.isEmpty ? AnswerVersion(snapshot: snapshot.id, generation: live.generation + 1) : nil
    }

    /// Items like one item.
    public func similar(_ request: SimilarItemsRequest) throws -> SimilarItemsResponse {
        try snapshot.similar.similar(request)
    }

    /// Stores a batch of listens durably and updates its users' live state, so their next list reflects it
    /// (folded in at that read).
    ///
    /// All or nothing: a bad element (its index and field in the error's `field`, e.g. `listens[3].plays`)
    /// stores nothing. A retried batch (same event ids) changes nothing. Returns after the commit.
    /// - Throws: `ServingError` (invalid) naming the element and field; the store's errors.
    public func ingest(_ events: [ListenEvent]) async throws -> ListenReceipt {
        var batch: [LiveListen] = []
        batch.reserveCapacity(events.count)
        for (index, event) in events.enumerated() {
            let at = try Self.validate(event, index: index)
            batch.append(LiveListen(eventID: event.eventId, user: event.user, item: event.item, plays: event.plays, at: at))
        }
        let receivedAt = Int64(Date().timeIntervalSince1970)
        let receipt: LiveListenReceipt
        do {
            receipt = try await withCheckedThrowingContinuation { continuation in
                committer.submit(batch, receivedAt: receivedAt) { continuation.resume(with: $0) }
            }
        } catch let error as LiveWriteError {
            throw ServingError(field: "listens[\(error.index)].\(Self.wireName(error.field))", detail: error.reason)
        }
        guard receipt.accepted > 0 else {
            return ListenReceipt(accepted: 0, duplicates: receipt.duplicates, newUsers: [], newItems: [], foldedUsers: 0)
        }
        let snapshot = self.snapshot
        var touched: [String: [(item: ItemIndex, total: Float)]] = [:]
        for event in receipt.events {
            touched[batch[event.batchIndex].user, default: []].append((event.item, Float(event.totalPlays)))
        }
        let folded = update(touched, snapshot: snapshot)
        return ListenReceipt(accepted: receipt.accepted, duplicates: receipt.duplicates, newUsers: receipt.newUsers, newItems: receipt.newItems,
                             foldedUsers: folded)
    }

    /// Applies stored listens (item → the user's total plays of it now) to the users' live state and marks
    /// their folds stale: the next read folds each user in once from the whole history (`recommend`), so a
    /// burst of listens costs one fold, and ingest never waits for folding. Returns how many users a
    /// folding model will answer from their new history.
    func update(_ touched: [String: [(item: ItemIndex, total: Float)]], snapshot: ServingSnapshot) -> Int {
        for (user, items) in touched {
            let seed = users.withLock { $0[user] } == nil ? Self.history(of: user, in: snapshot) : nil
            users.withLock { table in
                var live = table[user] ?? LiveUser(history: seed ?? [:])
                for (item, total) in items { live.history[item] = total }
                live.folded = nil
                live.foldedFor = ""
                live.generation += 1
                table[user] = live
            }
        }
        return snapshot.recommendations.foldsUsers ? touched.count : 0
    }

    static func history(of user: String, in snapshot: ServingSnapshot) -> [ItemIndex: Float] {
        Dictionary(snapshot.recommendations.history(of: user).map { ($0.item, $0.plays) }, uniquingKeysWith: +)
    }

    /// Stores likes, dislikes and skips durably and applies them.
    /// - Throws: `ServingError` naming the element and field (invalid input; an unknown user or item is
    ///   not found); the store's errors.
    public func feedback(_ events: [FeedbackEvent]) throws -> FeedbackReceipt {
        var batch: [LiveFeedback] = []
        for (index, event) in events.enumerated() {
            try EventValidation.id(event.eventId, field: "feedback[\(index)].event_id")
            try EventValidation.id(event.user, field: "feedback[\(index)].user")
            try EventValidation.id(event.item, field: "feedback[\(index)].item")
            let at = try EventValidation.time(event.at, field: "feedback[\(index)].at")
            batch.append(LiveFeedback(eventID: event.eventId, user: event.user, item: event.item, kind: event.kind, at: at))
        }
        let receipt = try writer.store.withLock { store in
            do {
                return try store.appendFeedback(batch, receivedAt: Int64(Date().timeIntervalSince1970))
            } catch let error as LiveWriteError {
                throw ServingError(field: "feedback[\(error.index)].\(Self.wireName(error.field))", detail: error.reason,
                                   kind: error.kind == .unknownID ? .notFound : .invalid)
            }
        }
        let snapshot = self.snapshot
        var likes: [String: [(item: ItemIndex, total: Float)]] = [:]
        for event in receipt.events {
            let wire = batch[event.batchIndex]
            switch event.kind {
            case .like:
                let current = users.withLock { $0[wire.user]?.history[event.item] }
                    ?? Self.history(of: wire.user, in: snapshot)[event.item] ?? 0
                likes[wire.user, default: []].append((event.item, current + 1))
            case .dislike, .skip:
                users.withLock { table in
                    var live = table[wire.user] ?? LiveUser(history: Self.history(of: wire.user, in: snapshot))
                    if event.kind == .dislike {
                        live.disliked.insert(event.item)
                    } else {
                        live.skippedAt[event.item] = max(live.skippedAt[event.item] ?? .min, wire.at)
                    }
                    live.generation += 1
                    table[wire.user] = live
                }
            }
        }
        if !likes.isEmpty { _ = update(likes, snapshot: snapshot) }
        return FeedbackReceipt(accepted: receipt.accepted, duplicates: receipt.duplicates)
    }

    /// Adds new songs to the store.
    /// - Throws: `ServingError` (conflict) for an id the store already has, (invalid) for a bad field.
    public func addItems(_ events: [NewItemEvent]) throws -> NewItemReceipt {
        var items: [NewItem] = []
        for (index, event) in events.enumerated() {
            try EventValidation.id(event.id, field: "items[\(index)].id")
            try EventValidation.id(event.artist, field: "items[\(index)].artist")
            try EventValidation.id(event.title, field: "items[\(index)].title")
            items.append(NewItem(id: event.id, title: event.title, release: event.release, artist: event.artist, year: event.year, tags: event.tags ?? []))
        }
        _ = try writer.store.withLock { store in
            do {
                return try store.addItems(items)
            } catch let error as LiveWriteError {
                throw ServingError(field: "items[\(error.index)].\(Self.wireName(error.field))", detail: error.reason,
                                   kind: error.kind == .duplicateID ? .conflict : .invalid)
            }
        }
        // A fresh snapshot of the same model over the store as it is now: the new songs join the catalog,
        // the text neighbours (`similar?by=text`) and, for a GCN, the ranking (placed by their features).
        let snapshot = try refresh()
        return NewItemReceipt(added: events.map(\.id), placed: snapshot.recommendations.placedCount > 0)
    }

    /// Rebuilds the snapshot with the current model file and store, waiting for a reload in progress.
    func refresh() throws -> ServingSnapshot {
        reloadLock.lock()
        defer { reloadLock.unlock() }
        return try rebuild(modelPath: nil)
    }

    /// Loads `modelPath` (default: the configured model file, re-read) with the store as it is now, and
    /// swaps it in. Requests in flight finish on the old snapshot; a model that fails to load leaves the
    /// old one serving.
    /// - Throws: `ServingError` (conflict) when another reload is running or the model cannot be loaded
    ///   (the detail says why).
    public func reload(modelPath: String? = nil) throws -> ServedModel {
        guard reloadLock.try() else {
            throw ServingError(field: "model", detail: "a reload is already running; retry when it has finished", kind: .conflict)
        }
        defer { reloadLock.unlock() }
        return try rebuild(modelPath: modelPath).model
    }

    /// Builds the next snapshot beside the serving one and swaps it in. The caller holds `reloadLock`.
    func rebuild(modelPath: String?) throws -> ServingSnapshot {
        var next = configuration.withLock { $0 }
        if let modelPath { next.modelPath = modelPath }
        let snapshot: ServingSnapshot
        do {
            snapshot = try ServingSnapshot(configuration: next)
        } catch {
            throw ServingError(field: "model", detail: "the old model keeps serving: \(error)", kind: .conflict)
        }
        current.withLock { $0 = snapshot }
        configuration.withLock { $0 = next }
        return snapshot
    }

    /// `reload` on a thread of its own, so the seconds it takes never occupy the async executors that
    /// answer requests.
    public func reloadOffThread(modelPath: String? = nil) async throws -> ServedModel {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try self.reload(modelPath: modelPath) }) }
            thread.name = "tastegraph-reload"
            thread.start()
        }
    }

    static func validate(_ event: ListenEvent, index: Int) throws -> Int64 {
        try EventValidation.id(event.eventId, field: "listens[\(index)].event_id")
        try EventValidation.id(event.user, field: "listens[\(index)].user")
        try EventValidation.id(event.item, field: "listens[\(index)].item")
        guard (1...ListenTable.maximumPlayCount).contains(event.plays) else {
            throw ServingError(field: "listens[\(index)].plays", detail: "must be between 1 and \(ListenTable.maximumPlayCount), got \(event.plays)")
        }
        return try EventValidation.time(event.at, field: "listens[\(index)].at")
    }

    /// The store's field names as the wire spells them.
    static func wireName(_ field: String) -> String {
        switch field {
        case "eventID": "event_id"
        default: field
        }
    }

    /// Feedback stored before this start, so a restarted server keeps honouring it (a like is one play).
    static func restoreFeedback(from store: GraphStore, snapshot: ServingSnapshot, into users: inout [String: LiveUser]) throws {
        let catalog = snapshot.recommendations.catalog
        for row in try store.feedback() where row.user.rawValue < catalog.userCount {
            let user = catalog.userExternalIDs[row.user.rawValue]
            var live = users[user] ?? LiveUser(history: history(of: user, in: snapshot))
            switch row.kind {
            case .like: live.history[row.item, default: 0] += 1
            case .dislike: live.disliked.insert(row.item)
            case .skip: live.skippedAt[row.item] = max(live.skippedAt[row.item] ?? .min, row.at)
            }
            users[user] = live
        }
    }
}
