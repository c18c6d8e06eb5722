/// Partial top-k selection: the `k` best indices of a score array without sorting all of it.
///
/// Order: higher score first; equal scores by lower index (the order a full stable sort by score would
/// give). NaN never ranks.
public enum TopK {
    /// Whether (score a, index i) ranks before (score b, index j).
    @inline(__always)
    static func ranksBefore(_ a: Float, _ i: Int, _ b: Float, _ j: Int) -> Bool { a > b || (a == b && i < j) }

    /// The best `k` indices `i` of `scores` with `keep(i)`, best first.
    ///
    /// A min-heap of the best `k` seen so far: each candidate is compared with the heap's worst and replaces
    /// it when it ranks before it.
    /// - Complexity: O(n log k) for n scores, O(k) memory (a full sort is O(n log n) and O(n)).
    public static func select(_ k: Int, of scores: UnsafeBufferPointer<Float>, where keep: (Int) -> Bool = { _ in true }) -> [Int] {
        select(k, of: scores, amongIndices: 0..<scores.count, where: keep)
    }

    /// `select` over only the indices of `candidates` (each once, any order): the sparse case, where a
    /// model scored a few hundred items of a large catalog.
    /// - Complexity: O(c log k) for c candidates.
    public static func select(
        _ k: Int, of scores: UnsafeBufferPointer<Float>, among candidates: [Int32], where keep: (Int) -> Bool = { _ in true }
    ) -> [Int] {
        // A concrete sequence type here, so the heap below is specialized for it (a generic entry point
        // would run unspecialized from other modules: measured at a fifth of a session request's time).
        select(k, of: scores, amongIndices: candidates.lazy.map { Int($0) }, where: keep)
    }

    static func select<C: Sequence<Int>>(
        _ k: Int, of scores: UnsafeBufferPointer<Float>, amongIndices candidates: C, where keep: (Int) -> Bool
    ) -> [Int] {
        guard k > 0 else { return [] }
        var heap: [Int] = []  // worst at heap[0]
        heap.reserveCapacity(k)
        /// True when the entry at heap position a is *worse* than the one at b (min-heap order).
        func worse(_ a: Int, _ b: Int) -> Bool {
            ranksBefore(scores[heap[b]], heap[b], scores[heap[a]], heap[a])
        }
        func siftUp(_ start: Int) {
            var child = start
            while child > 0 {
                let parent = (child - 1) / 2
                guard worse(child, parent) else { return }
                heap.swapAt(child, parent)
                child = parent
            }
        }
        func siftDown(_ start: Int) {
            var parent = start
            while true {
                let left = 2 * parent + 1
                guard left < heap.count else { return }
                var pick = left
                if left + 1 < heap.count && worse(left + 1, left) { pick = left + 1 }
                guard worse(pick, parent) else { return }
                heap.swapAt(pick, parent)
                parent = pick
            }
        }
        for index in candidates {
            let score = scores[index]
            if score.isNaN { continue }
            if heap.count == k {
                let worst = heap[0]
                guard ranksBefore(score, index, scores[worst], worst) else { continue }
                guard keep(index) else { continue }
                heap[0] = index
                siftDown(0)
            } else {
                guard keep(index) else { continue }
                heap.append(index)
                siftUp(heap.count - 1)
            }
        }
        return heap.sorted { ranksBefore(scores[$0], $0, scores[$1], $1) }
    }

    /// `select` over an array.
    public static func select(_ k: Int, of scores: [Float], where keep: (Int) -> Bool = { _ in true }) -> [Int] {
        scores.withUnsafeBufferPointer { select(k, of: $0, where: keep) }
    }
}

/// The best `k` (score, index) pairs of a stream of score runs: the `TopK.select` of their concatenation,
/// kept as it goes (one per user in `BatchedScoring.topK`).
///
/// Order: higher score first, equal scores by lower index; NaN and ±∞ never rank. The runs may come in
/// any index order (`BatchedScoring.topK(users:userRows:ordered:…)` visits items by norm): a candidate
/// enters when it ranks before the k-th best held, ties decided by index. Each run is scanned sixteen
/// scores at a time against `bar`, and `keep` is asked only about scores that reach it.
///
/// With a `margin` m > 0 it also holds every kept pair whose score is within m of the k-th best
/// (score ≥ threshold − m, `held()`): the candidates that a second, more exact scoring could still rank
/// among the k best (`BatchedScoring.topK`).
public struct RunningTopK: Sendable {
    public let k: Int
    /// How far below the k-th best score a pair is still held; 0 holds the k best only.
    public let margin: Float
    /// Min-heap on rank: the worst of the k best at [0].
    private var heap: [(score: Float, index: Int)] = []
    /// Pairs below the k best and (when added) within `margin` of them; pruned when it outgrows `bandLimit`.
    private var band: [(score: Float, index: Int)] = []
    private var bandLimit: Int

    public init(k: Int, margin: Float = 0) {
        precondition(k >= 0, "k must be ≥ 0")
        precondition(margin >= 0 && margin.isFinite, "a margin must be finite and ≥ 0, got \(margin)")
        self.k = k
        self.margin = margin
        bandLimit = 4 * k + 64
        heap.reserveCapacity(k)
    }

    /// The k-th best score held (−∞ until `k` are held): a candidate must reach it to enter the k best.
    public var threshold: Float { heap.count == k && k > 0 ? heap[0].score : -.infinity }

    /// The lowest score still held: `threshold` − `margin`.
    public var bar: Float { threshold - margin }

    /// Offers `scores[j] + bias[j]` (`scores[j]` without a bias) as index `indices[j]` (`firstIndex + j`
    /// without `indices`), for j in order; `keep(index)` is asked of finite scores that reach `bar` only. Adding the bias here, as each group is compared, gives the same sums as adding it first and
    /// saves a pass over the scores.
    public mutating func offer(
        _ scores: UnsafeBufferPointer<Float>, adding bias: UnsafeBufferPointer<Float>? = nil, indices: UnsafeBufferPointer<Int32>? = nil,
        firstIndex: Int = 0, where keep: (Int) -> Bool
    ) {
        guard k > 0, let base = scores.baseAddress else { return }
        if let bias { precondition(bias.count == scores.count, "a bias for each score") }
        if let indices { precondition(indices.count == scores.count, "an index for each score") }
        let added = bias?.baseAddress
        let named = indices?.baseAddress
        @inline(__always) func score(_ j: Int) -> Float { added.map { base[j] + $0[j] } ?? base[j] }
        @inline(__always) func index(_ j: Int) -> Int { named.map { Int($0[j]) } ?? firstIndex + j }
        var j = 0
        while j + 16 <= scores.count {
            // Branch-free: one compare per score, OR-ed together (LLVM turns this into vector compares).
            let bar = self.bar
            let group = base + j
            var reaches: UInt8 = 0
            if let added {
                let shift = added + j
                for t in 0..<16 { reaches |= group[t] + shift[t] >= bar ? 1 : 0 }
            } else {
                for t in 0..<16 { reaches |= group[t] >= bar ? 1 : 0 }
            }
            if reaches != 0 {
                for t in j..<(j + 16) { consider(score(t), index: index(t), keep) }
            }
            j += 16
        }
        while j < scores.count {
            consider(score(j), index: index(j), keep)
            j += 1
        }
    }

    @inline(__always)
    private mutating func consider(_ score: Float, index: Int, _ keep: (Int) -> Bool) {
        guard score.isFinite else { return }
        if heap.count == k && !TopK.ranksBefore(score, index, heap[0].score, heap[0].index) {
            guard margin > 0, score >= bar, keep(index) else { return }
            hold((score, index))
            return
        }
        guard keep(index) else { return }
        if heap.count == k && margin > 0 { hold(heap[0]) }
        if heap.count < k {
            heap.append((score, index))
            var child = heap.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard worse(heap[child], than: heap[parent]) else { break }
                heap.swapAt(child, parent)
                child = parent
            }
            return
        }
        heap[0] = (score, index)
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            var pick = left
            if left + 1 < heap.count && worse(heap[left + 1], than: heap[left]) { pick = left + 1 }
            guard worse(heap[pick], than: heap[parent]) else { return }
            heap.swapAt(pick, parent)
            parent = pick
        }
    }

    /// Whether a ranks after b.
    @inline(__always)
    private func worse(_ a: (score: Float, index: Int), than b: (score: Float, index: Int)) -> Bool {
        TopK.ranksBefore(b.score, b.index, a.score, a.index)
    }

    /// Keeps a pair in the band, dropping those below `bar` when the band outgrows its limit (which then
    /// doubles past what is left, so pruning costs O(1) amortized per pair).
    private mutating func hold(_ pair: (score: Float, index: Int)) {
        band.append(pair)
        guard band.count > bandLimit else { return }
        let lowest = bar
        band.removeAll { $0.score < lowest }
        bandLimit = max(bandLimit, 2 * band.count)
    }

    /// The k best and, with a margin, every pair kept within it (score ≥ `bar`), in no order.
    public func held() -> [(item: Int, score: Float)] {
        let lowest = bar
        return (heap + band.filter { $0.score >= lowest }).map { (item: $0.index, score: $0.score) }
    }

    /// The k best pairs, best first.
    public func sorted() -> [(item: Int, score: Float)] {
        heap.sorted { TopK.ranksBefore($0.score, $0.index, $1.score, $1.index) }.map { (item: $0.index, score: $0.score) }
    }
}
