import TasteGraphGraph

/// O(1) weighted choice of a neighbour, for every row of a CSR at once (Walker's alias method, Vose's
/// construction, built per row).
///
/// For a row with d neighbours and weights w: draw a slot j uniformly in 0..<d, then keep it with
/// probability `keep[j]` or take `alias[j]`; the result is neighbour j with probability w_j / Σw.
/// Shapes: keep (E), alias (E) — one entry per edge, aligned with the CSR.
struct AliasSampler: Sendable {
    let csr: CSR
    private let keep: [Float]
    private let alias: [Int32]  // edge index (absolute) to take instead

    init(_ csr: CSR) {
        self.csr = csr
        var keep = [Float](repeating: 1, count: csr.edgeCount)
        var alias = [Int32](repeating: 0, count: csr.edgeCount)
        var small: [Int] = []
        var large: [Int] = []
        var scaled: [Double] = []
        for row in 0..<csr.rowCount {
            let start = csr.offsets[row]
            let end = csr.offsets[row + 1]
            let degree = end - start
            guard degree > 0 else { continue }
            let total = csr.weights[start..<end].reduce(0.0) { $0 + Double($1) }
            scaled.removeAll(keepingCapacity: true)
            small.removeAll(keepingCapacity: true)
            large.removeAll(keepingCapacity: true)
            for e in start..<end {
                let p = total > 0 ? Double(csr.weights[e]) * Double(degree) / total : 1
                scaled.append(p)
                alias[e] = Int32(e)
                if p < 1 { small.append(e - start) } else { large.append(e - start) }
            }
            while let s = small.popLast(), let l = large.last {
                keep[start + s] = Float(scaled[s])
                alias[start + s] = Int32(start + l)
                scaled[l] -= 1 - scaled[s]
                if scaled[l] < 1 {
                    large.removeLast()
                    small.append(l)
                }
            }
            // Leftovers are 1 up to rounding: always keep.
            for l in large { keep[start + l] = 1 }
            for s in small { keep[start + s] = 1 }
        }
        self.keep = keep
        self.alias = alias
    }

    /// A weighted random neighbour of `row`, from one 64-bit random draw; nil for a row without edges.
    @inline(__always)
    func sample(_ row: Int, random: UInt64) -> Int32? {
        let start = csr.offsets[row]
        let degree = csr.offsets[row + 1] - start
        guard degree > 0 else { return nil }
        let slot = start + Int(((random >> 32) &* UInt64(degree)) >> 32)
        let coin = Float(random & 0xFFFF_FFFF) * 0x1.0p-32
        let edge = coin < keep[slot] ? slot : Int(alias[slot])
        return csr.targets[edge]
    }
}
