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
