/// A sparse matrix in compressed sparse rows, with values of any floating-point type.
///
/// Shapes: (rows, columns); offsets (rows + 1), columns and values (nnz).
public struct SparseMatrix<Scalar: BinaryFloatingPoint & Sendable>: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    public let offsets: [Int]
    public let indices: [Int32]
    public let values: [Scalar]

    public var nonZeroCount: Int { indices.count }

    /// Builds from (row, column, value) triples; duplicates are summed; columns sorted within a row.
    public init(rows: Int, columns: Int, entries: [(row: Int, column: Int, value: Scalar)]) {
        var perRow = [[(Int, Scalar)]](repeating: [], count: rows)
        for entry in entries {
            precondition(entry.row < rows && entry.column < columns, "entry (\(entry.row), \(entry.column)) outside \(rows)×\(columns)")
            perRow[entry.row].append((entry.column, entry.value))
        }
        var offsets = [0]
        var indices: [Int32] = []
        var values: [Scalar] = []
        for row in perRow {
            let sorted = row.sorted { $0.0 < $1.0 }
            var index = 0
            while index < sorted.count {
                var value = sorted[index].1
                var next = index + 1
                while next < sorted.count && sorted[next].0 == sorted[index].0 {
                    value += sorted[next].1
                    next += 1
                }
                indices.append(Int32(sorted[index].0))
                values.append(value)
                index = next
            }
            offsets.append(indices.count)
        }
        self.rows = rows
        self.columns = columns
        self.offsets = offsets
        self.indices = indices
        self.values = values
    }

    public init(rows: Int, columns: Int, offsets: [Int], indices: [Int32], values: [Scalar]) {
        precondition(offsets.count == rows + 1 && indices.count == values.count && offsets.last == indices.count)
        self.rows = rows
        self.columns = columns
        self.offsets = offsets
        self.indices = indices
        self.values = values
    }

    /// The same matrix with values converted to another precision.
    public func converted<Other: BinaryFloatingPoint & Sendable>(to: Other.Type) -> SparseMatrix<Other> {
        SparseMatrix<Other>(rows: rows, columns: columns, offsets: offsets, indices: indices, values: values.map { Other($0) })
    }

    /// The transpose (CSR of Aᵀ).
    public func transposed() -> SparseMatrix {
        var counts = [Int](repeating: 0, count: columns + 1)
        for c in indices { counts[Int(c) + 1] += 1 }
        for c in 0..<columns { counts[c + 1] += counts[c] }
        var cursor = counts
        var newIndices = [Int32](repeating: 0, count: indices.count)
        var newValues = [Scalar](repeating: 0, count: values.count)
        for row in 0..<rows {
            for e in offsets[row]..<offsets[row + 1] {
                let c = Int(indices[e])
                newIndices[cursor[c]] = Int32(row)
                newValues[cursor[c]] = values[e]
                cursor[c] += 1
            }
        }
        return SparseMatrix(rows: columns, columns: rows, offsets: counts, indices: newIndices, values: newValues)
    }

    /// Dense row-major copy (tests and small matrices only).
    public func dense() -> [Scalar] {
        var out = [Scalar](repeating: 0, count: rows * columns)
        for row in 0..<rows {
            for e in offsets[row]..<offsets[row + 1] { out[row * columns + Int(indices[e])] += values[e] }
        }
        return out
    }
}

extension BipartiteGraph {
    /// The symmetric GCN normalization over the N = U + I nodes [users; items] (Kipf & Welling 2017):
    ///
    /// ```
    /// A = [0  R; Rᵀ 0]  (N, N),  R (U, I) the edge weights
    /// Â = D^-1/2 (A + I) D^-1/2,   D = diag(row sums of A + I)
    /// ```
    /// Without self-loops it is D^-1/2 A D^-1/2, and an isolated node's row is 0 (not ∞).
    /// Computed once; Â is symmetric, so it is its own transpose in backward passes.
    /// - Complexity: O(N + E).
    public func gcnNormalized(selfLoops: Bool = true) -> SparseMatrix<Float> {
        let n = userCount + itemCount
        var degree = [Double](repeating: selfLoops ? 1 : 0, count: n)
        for u in 0..<userCount {
            for e in userItems.offsets[u]..<userItems.offsets[u + 1] {
                let w = Double(userItems.weights[e])
                degree[u] += w
                degree[userCount + Int(userItems.targets[e])] += w
            }
        }
        let inverseRoot = degree.map { $0 > 0 ? 1 / $0.squareRoot() : 0 }
        var offsets = [0]
        var indices: [Int32] = []
        var values: [Float] = []
        indices.reserveCapacity(2 * edgeCount + n)
        values.reserveCapacity(2 * edgeCount + n)
        func emit(_ row: Int, _ column: Int, _ weight: Double) {
            indices.append(Int32(column))
            values.append(Float(weight * inverseRoot[row] * inverseRoot[column]))
        }
        for u in 0..<userCount {  // user rows: self loop first (column u < every item column)
            if selfLoops { emit(u, u, 1) }
            for e in userItems.offsets[u]..<userItems.offsets[u + 1] {
                emit(u, userCount + Int(userItems.targets[e]), Double(userItems.weights[e]))
            }
            offsets.append(indices.count)
        }
        for i in 0..<itemCount {  // item rows: users first, then the self loop
            let node = userCount + i
            for e in itemUsers.offsets[i]..<itemUsers.offsets[i + 1] {
                emit(node, Int(itemUsers.targets[e]), Double(itemUsers.weights[e]))
            }
            if selfLoops { emit(node, node, 1) }
            offsets.append(indices.count)
        }
        return SparseMatrix(rows: n, columns: n, offsets: offsets, indices: indices, values: values)
    }
}

extension SparseMatrix {
    /// The first `count` rows (all of them when `count >= rows`). Shapes: (rows, C) → (min(count, rows), C).
    /// - Complexity: O(nnz of the kept rows).
    public func firstRows(_ count: Int) -> SparseMatrix {
        let kept = max(0, min(count, rows))
        guard kept < rows else { return self }
        let end = offsets[kept]
        return SparseMatrix(rows: kept, columns: columns, offsets: Array(offsets[0...kept]),
                            indices: Array(indices[0..<end]), values: Array(values[0..<end]))
    }
}
