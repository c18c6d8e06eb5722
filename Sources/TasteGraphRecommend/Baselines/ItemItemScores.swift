import TasteGraphGraph
import TasteGraphCore

/// The scoring half of every sparse item-item model (item-KNN, RP3β): a user's weights over heard items
/// times a sparse item-item matrix.
///
/// ```
/// X (U, I) sparse: userRows      W (I, I) sparse: similarities, row j lists the items j leads to
/// score(u, i) = Σ_{j ∈ I(u)} x_uj · W_ji
/// ```
/// Also the explanation (the terms x_uj · W_ji) and the arrays a model file holds.
struct ItemItemScores: Sendable {
    let similarities: CSR
    let userRows: CSR

    /// Shapes: out (users.count, items), row-major.
    func scores(users: [UserIndex], items: Int, into out: UnsafeMutableBufferPointer<Float>) {
        for (row, user) in users.lazy.map(\.rawValue).enumerated() {
            let base = row * items
            for item in 0..<items { out[base + item] = 0 }
            for e in userRows.offsets[user]..<userRows.offsets[user + 1] {
                let j = Int(userRows.targets[e])
                let w = userRows.weights[e]
                for s in similarities.offsets[j]..<similarities.offsets[j + 1] {
                    out[base + Int(similarities.targets[s])] += w * similarities.weights[s]
                }
            }
        }
    }

    /// The terms x_uj · W_ji of the score, one per heard item j, largest first (at most `count`).
    func explain(user: UserIndex, item: ItemIndex, count: Int) -> [Contribution] {
        let user = user.rawValue, item = item.rawValue
        var terms: [Contribution] = []
        for e in userRows.offsets[user]..<userRows.offsets[user + 1] {
            let j = Int(userRows.targets[e])
            for s in similarities.offsets[j]..<similarities.offsets[j + 1] where Int(similarities.targets[s]) == item {
                terms.append(Contribution(item: ItemIndex(j), weight: Double(userRows.weights[e] * similarities.weights[s])))
            }
        }
        return Array(terms.sorted { $0.weight > $1.weight || ($0.weight == $1.weight && $0.item < $1.item) }.prefix(count))
    }

    /// The model file's arrays.
    var arrays: [(name: String, values: ModelArchive.Values)] {
        [
            ("similarityOffsets", .int(similarities.offsets.map { Int32($0) })), ("neighbors", .int(similarities.targets)),
            ("similarities", .float(similarities.weights)),
        ] + ArchiveChecks.userRowArrays(userRows)
    }

    init(similarities: CSR, userRows: CSR) {
        self.similarities = similarities
        self.userRows = userRows
    }

    /// Reads `arrays` back, checked.
    /// - Throws: `CheckpointError` naming `what` for arrays that do not form the two matrices.
    init(archive: ModelArchive, path: String, what: String) throws {
        func csr(_ offsets: String, _ targets: String, _ weights: String, rows: Int) throws -> CSR {
            try ArchiveChecks.csr(
                offsets: try archive.ints(offsets, path: path).map(Int.init), targets: try archive.ints(targets, path: path),
                weights: try archive.floats(weights, path: path), rows: rows, columns: archive.identity.itemIDs.count,
                what: what, path: path)
        }
        self.init(similarities: try csr("similarityOffsets", "neighbors", "similarities", rows: archive.identity.itemIDs.count),
                  userRows: try csr("userOffsets", "userItems", "userWeights", rows: archive.identity.userIDs.count))
    }
}
