/// A binary min-heap: the smallest element at the top (segment merges, each user's nearest neighbours).
struct MinHeap<Element: Comparable> {
    private var storage: [Element] = []

    var count: Int { storage.count }
    /// The smallest element; nil when empty.
    var top: Element? { storage.first }
    /// The elements in no particular order.
    var elements: [Element] { storage }

    init(capacity: Int = 0) { storage.reserveCapacity(capacity) }

    mutating func push(_ element: Element) {
        storage.append(element)
        var i = storage.count - 1
        while i > 0 && storage[i] < storage[(i - 1) / 2] {
            storage.swapAt(i, (i - 1) / 2)
            i = (i - 1) / 2
        }
    }

    /// The smallest element, removed; nil when empty.
    mutating func pop() -> Element? {
        guard let first = storage.first else { return nil }
        let last = storage.removeLast()
        if !storage.isEmpty {
            storage[0] = last
            siftDown()
        }
        return first
    }

    /// Replaces the smallest element with `element` (one sift instead of a pop and a push). Needs a non-empty heap.
    mutating func replaceTop(with element: Element) {
        precondition(!storage.isEmpty, "replaceTop on an empty heap")
        storage[0] = element
        siftDown()
    }

    private mutating func siftDown() {
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var least = i
            if l < storage.count && storage[l] < storage[least] { least = l }
            if r < storage.count && storage[r] < storage[least] { least = r }
            if least == i { return }
            storage.swapAt(i, least)
            i = least
        }
    }
}
