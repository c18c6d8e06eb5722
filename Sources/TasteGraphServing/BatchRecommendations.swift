import Dispatch
import Foundation
import Synchronization
import TasteGraphCore
import TasteGraphSupport
import TasteGraphRecommend

/// How `RecommendationService.recommendAll` works through many users.
public struct BatchSettings: Sendable, Equatable {
    /// Users scored together in one call of the model's `scores(users:into:)` (one sgemm for the GCN and
    /// ALS), padded to this many rows.
    public var blockSize = 256
    /// Workers, each scoring and selecting whole blocks.
    public var threads = 1

    public init(blockSize: Int = 256, threads: Int = 1) {
        self.blockSize = blockSize
        self.threads = threads
    }
}

extension RecommendationService {
    /// The answer to `template` for each of `users`, handed to `emit` in the order of `users`.
    ///
    /// Users the model serves (known to it, at least `policy.minimumListens` heard items) are scored
    /// `settings.blockSize` at a time. Without a per-artist cap each list is the model's `topItems`: the
    /// GCN and ALS multiply the block by one tile of items at a time and keep a running top-k per user, so
    /// the (B, I) score block is never formed; with a cap the block is formed and each row's list is picked
    /// in place by `RecommendationSelection.top` (O(I log k) a row, no sort of all items). Everyone
    /// else, and every user of a request that asks for explanations or a diversity, or of a service with
    /// placed new songs, is answered one at a time by `recommend(_:)`.
    ///
    /// Every block is padded to `blockSize` rows (repeating its first user), so each user's scores come from
    /// the same sgemm shape whichever users share its block: the lists do not depend on how `users` is split
    /// (the Spark path scores partitions through this and must equal one run over everyone). They may differ
    /// from `recommend(_:)`'s in the last bits of a score, where OpenBLAS picks another kernel for one row.
    ///
    /// Memory: `threads · blockSize · 2,048` floats of score tiles (`threads · blockSize · I` with a
    /// per-artist cap), and one round of `threads · blockSize` answers.
    /// - Parameters:
    ///   - template: the request's settings; its `user` is ignored.
    ///   - emit: receives each answer; what it throws stops the run.
    /// - Throws: the template's `ServingError` (an unknown excluded artist, a bad count) before any answer.
    public func recommendAll(
        users: [String], template: RecommendationRequest, settings: BatchSettings = BatchSettings(),
        emit: (RecommendationResponse) throws -> Void
    ) throws {
        try recommendAll(users: users, template: template, settings: settings, render: { $0 }, emit: emit)
    }

    /// `recommendAll(users:template:settings:emit:)` with each answer first turned into `render`'s value
    /// (e.g. its CSV lines) on the worker that scored it, so the formatting of a million answers runs on
    /// `settings.threads` cores and not on the one thread that `emit` is called on, in order.
    public func recommendAll<Rendered: Sendable>(
        users: [String], template: RecommendationRequest, settings: BatchSettings = BatchSettings(),
        render: @Sendable (RecommendationResponse) -> Rendered, emit: (Rendered) throws -> Void
    ) throws {
        precondition(settings.blockSize >= 1 && settings.threads >= 1, "a batch needs a positive block size and thread count")
        guard template.count >= 1 else { throw ServingError(field: "k", detail: "must be at least 1, got \(template.count)") }
        let filter = try self.filter(for: template)
        let blocked = !template.explain && template.diversity == 0 && placed.isEmpty
        let blockSize = settings.blockSize
        let round = blockSize * settings.threads
        var start = 0
        while start < users.count {
            let slice = Array(users[start..<min(users.count, start + round)])
            var answers = [Rendered?](repeating: nil, count: slice.count)
            if blocked {
                let blocks = (slice.count + blockSize - 1) / blockSize
                let results = Mutex<[Int: Rendered]>([:])
                DispatchQueue.concurrentPerform(iterations: blocks) { block in
                    let first = block * blockSize
                    let answered = answerBlock(Array(slice[first..<min(slice.count, first + blockSize)]), rows: blockSize, template: template, filter: filter)
                    let rendered = answered.map { (first + $0.key, render($0.value)) }
                    results.withLock { all in for (row, answer) in rendered { all[row] = answer } }
                }
                for (row, answer) in results.withLock({ $0 }) { answers[row] = answer }
            }
            for (row, user) in slice.enumerated() {
                if let answer = answers[row] {
                    try emit(answer)
                    continue
                }
                var request = template
                request.user = user
                try emit(render(try recommend(request)))
            }
            start += slice.count
        }
    }

    /// The answers for the users of one block that the model serves, keyed by their row in `users`; the
    /// rest are left to `recommend(_:)`. The scores block always has `rows` rows (the padding).
    func answerBlock(_ users: [String], rows blockRows: Int, template: RecommendationRequest, filter: RecommendationFilter) -> [Int: RecommendationResponse] {
        var rows: [(row: Int, model: UserIndex, excluded: Set<ItemIndex>)] = []
        for (row, user) in users.enumerated() {
            var request = template
            request.user = user
            let (heard, excluded) = exclusions(for: request, live: nil)
            guard heard.count >= policy.minimumListens, let modelUser = modelUserIDs.index(of: user) else { continue }
            rows.append((row, modelUser, excluded))
        }
        guard let firstUser = rows.first?.model else { return [:] }
        let items = recommender.itemCount
        let padded = rows.map(\.model) + [UserIndex](repeating: firstUser, count: max(0, blockRows - rows.count))
        if filter.maxPerArtist == 0 {
            // No per-artist cap: the list is the top-k of the eligible items (`RecommendationSelection.top`'s
            // rule), which the model can pick without forming the block. The padding rows repeat the first
            // user with its rule too, so they reach its k-th best and let the model stop early.
            let lists = recommender.topItems(users: padded, count: template.count) { row, item in
                RecommendationSelection.isEligible(item, heard: rows[row < rows.count ? row : 0].excluded, filter: filter, catalog: catalog)
            }
            var answers: [Int: RecommendationResponse] = [:]
            for (position, entry) in rows.enumerated() {
                let picked = lists[position].map { pick in
                    Recommendation(
                        item: pick.item, score: Double(pick.score),
                        predictedPlays: recommender.predictsPlayCounts ? max(0, Double(expm1f(recommender.predictLog1p(user: entry.model, item: pick.item)))) : nil)
                }
                answers[entry.row] = RecommendationResponse(
                    user: users[entry.row], coldStart: false, model: model, recommendations: picked.map { served($0, because: nil) })
            }
            return answers
        }
        var block = [Float](repeating: 0, count: padded.count * items)
        block.withUnsafeMutableBufferPointer { recommender.scores(users: padded, into: $0) }
        var answers: [Int: RecommendationResponse] = [:]
        block.withUnsafeMutableBufferPointer { all in
            for (position, entry) in rows.enumerated() {
                let row = UnsafeMutableBufferPointer(rebasing: all[(position * items)..<((position + 1) * items)])
                rescoreExactly(row, user: entry.model, excluded: entry.excluded, count: template.count, filter: filter)
                let picked = RecommendationSelection.top(
                    template.count, of: UnsafeBufferPointer(row), heard: entry.excluded, filter: filter, catalog: catalog,
                    predictLog1p: recommender.predictsPlayCounts ? { self.recommender.predictLog1p(user: entry.model, item: $0) } : nil)
                answers[entry.row] = RecommendationResponse(
                    user: users[entry.row], coldStart: false, model: model,
                    recommendations: picked.map { served($0, because: nil) })
            }
        }
        return answers
    }

    /// Makes a block row's per-artist selection independent of the row's place in the block, for models
    /// with `Recommender.exactScores` (whose sgemm scores g are within Δ of the exact e): the selection on g
    /// gives its last pick's score T, every item of the selection on e has g ≥ T − 2Δ (the cap rule is a
    /// matroid, so greedy's k-th pick on e is at least the k-th e of g's picks, ≥ T − Δ), and the row keeps
    /// those items with e, −∞ for the rest. Other models' rows are left as they are.
    func rescoreExactly(_ row: UnsafeMutableBufferPointer<Float>, user: UserIndex, excluded: Set<ItemIndex>, count: Int, filter: RecommendationFilter) {
        guard let bound = recommender.exactScores(user: user, items: [])?.bound else { return }
        let first = RecommendationSelection.top(count, of: UnsafeBufferPointer(row), heard: excluded, filter: filter, catalog: catalog, predictLog1p: nil)
        let floor = first.count == count ? Float(first.last!.score) - 2 * bound : -.infinity
        let candidates = row.indices.filter { row[$0].isFinite && row[$0] >= floor }.map { ItemIndex($0) }
        guard let exact = recommender.exactScores(user: user, items: candidates)?.scores else { return }
        for i in row.indices { row[i] = -.infinity }
        for (item, score) in zip(candidates, exact) { row[item.rawValue] = score }
    }
}
