import ArgumentParser
import Foundation
import TasteGraphFeatures
import TasteGraphGraph
import TasteGraphStore

/// Which text features the GCN's item nodes get (`train`, `evaluate`, `recommend --explain`).
struct FeatureOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Item text features: hashing (TF-IDF feature hashing, 256 columns).", valueName: "kind"))
    var features = "hashing"

    func validate() throws {
        guard ["hashing"].contains(features) else { throw ValidationError("--features: unknown kind '\(features)'; choose hashing") }
    }

    /// X (I, F) for every item of `catalog`, and the embedder's name recorded in checkpoints.
    func matrix(catalog: Catalog, store: GraphStore, context: CLIContext) throws -> (matrix: SparseMatrix<Float>, name: String) {
        let embedder = HashingEmbedder()
        return (ItemFeatures.matrix(catalog, embedder: embedder), embedder.name)
    }

    /// The features a checkpoint was trained with, rebuilt from its recorded embedder name.
    static func matrix(recordedName name: String, catalog: Catalog, store: GraphStore) throws -> SparseMatrix<Float> {
        if name.hasPrefix("hashing-"), let dimension = Int(name.dropFirst("hashing-".count)) {
            return ItemFeatures.matrix(catalog, embedder: HashingEmbedder(dimension: dimension))
        }
        throw ValidationError("the checkpoint's features '\(name)' cannot be rebuilt here")
    }
}
