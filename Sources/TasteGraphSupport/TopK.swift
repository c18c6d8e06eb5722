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
        for index in 0..<scores.count {
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

/// The best `k` (score, index) pairs of a stream of score runs visited in increasing index order: the
/// `TopK.select` of their concatenation, kept as it goes (one per user in `BatchedScoring.topK`).
///
/// Order: higher score first, equal scores by lower index; NaN and ±∞ never rank. Once `k` are held, a
/// later index can only enter with a strictly higher score than the k-th best (its index is higher), so
/// each run is scanned sixteen scores at a time against that threshold and `keep` is asked only about
/// scores above it.
public struct RunningTopK: Sendable {
    public let k: Int
    /// Min-heap on rank: the worst held pair at [0].
    private var heap: [(score: Float, index: Int)] = []

    public init(k: Int) {
        precondition(k >= 0, "k must be ≥ 0")
        self.k = k
        heap.reserveCapacity(k)
    }

    /// The score a new candidate must exceed (−∞ until `k` are held).
    public var threshold: Float { heap.count == k && k > 0 ? heap[0].score : -.infinity }

    /// Offers `scores[j]` as index `firstIndex + j`, for j in order; `keep(index)` is asked of finite
    /// scores above `threshold` only.
    public mutating func offer(_ scores: UnsafeBufferPointer<Float>, firstIndex: Int, where keep: (Int) -> Bool) {
        guard k > 0, let base = scores.baseAddress else { return }
        var j = 0
        while j + 16 <= scores.count {
            // Branch-free: one compare per score, OR-ed together (LLVM turns this into vector compares).
            let bar = threshold
            let group = base + j
            var above: UInt8 = 0
            for t in 0..<16 { above |= group[t] > bar ? 1 : 0 }
            if above != 0 {
                for t in j..<(j + 16) { consider(scores[t], index: firstIndex + t, keep) }
            }
            j += 16
        }
        while j < scores.count {
            consider(scores[j], index: firstIndex + j, keep)
            j += 1
        }
    }

    @inline(__always)
    private mutating func consider(_ score: Float, index: Int, _ keep: (Int) -> Bool) {
        guard score > threshold, score.isFinite, keep(index) else { return }
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

    /// The held pairs, best first.
    public func sorted() -> [(item: Int, score: Float)] {
        heap.sorted { TopK.ranksBefore($0.score, $0.index, $1.score, $1.index) }.map { (item: $0.index, score: $0.score) }
    }
}
