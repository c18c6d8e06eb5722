import SQLite
import TasteGraphCore

/// The text-embedding cache (schema v3, table `text_embeddings`): one vector per (model, SHA-256 of the
/// text), so an embedding computed once — by `tastegraph embed` or by a training run — is never computed again.
extension GraphStore {
    /// The cache key of a text: SHA-256 of its UTF-8 bytes, lower-case hexadecimal.
    public static func textHash(_ text: String) -> String { SHA256.hex(of: text) }

    /// The cached vectors of `model` among `hashes`, by hash; hashes not cached are absent.
    /// - Throws: `StoreError` when a cached vector's size disagrees with its recorded dimension.
    public func cachedTextEmbeddings(model: String, hashes: [String]) throws -> [String: [Float]] {
        let statement = try db.prepare("SELECT dimension, vector FROM text_embeddings WHERE model = ? AND text_hash = ?")
        var found: [String: [Float]] = [:]
        for hash in Set(hashes) {
            try statement.query([.text(model), .text(hash)]) { row in
                let dimension = row.int(0)
                let bytes = row.blob(1)
                guard dimension >= 0, bytes.count % 4 == 0, bytes.count / 4 == dimension else {
                    throw StoreError("\(path): the cached \(model) embedding \(hash) holds \(bytes.count) bytes, not \(dimension) floats")
                }
                found[hash] = (0..<dimension).map { i in
                    Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                }
            }
        }
        return found
    }

    /// Stores (or replaces) vectors of `model`, all in one transaction.
    public func storeTextEmbeddings(model: String, _ vectors: [(hash: String, vector: [Float])]) throws {
        try transaction {
            let statement = try db.prepare(
                "INSERT OR REPLACE INTO text_embeddings(model, text_hash, dimension, vector) VALUES (?, ?, ?, ?)")
            for (hash, vector) in vectors {
                statement.reset()
                statement.bind(1, model)
                statement.bind(2, hash)
                statement.bind(3, vector.count)
                let littleEndian = vector.map { $0.bitPattern.littleEndian }
                littleEndian.withUnsafeBytes { statement.bindBlob(4, $0) }
                _ = try statement.executeBound()
            }
        }
    }

    /// How many vectors of `model` the cache holds.
    public func textEmbeddingCount(model: String) throws -> Int {
        Int(try db.integer("SELECT COUNT(*) FROM text_embeddings WHERE model = ?", .text(model)))
    }
}
