import Foundation
import TasteGraphStore
import TasteGraphSynth
import TestSupport

/// The committed GraphData sample imported once into a temporary store, with its planted truth.
final class PlantedSample: @unchecked Sendable {
    static let shared = PlantedSample()

    let directory = TemporaryDirectory()
    let storePath: String
    let truth: PlantedTruth

    private init() {
        let root = SharedData.packageRoot + "/GraphData"
        storePath = directory.file("sample.sqlite")
        let store = try! GraphStore(path: storePath)
        _ = try! TasteProfileImporter(store: store).importTriplets(path: root + "/triplets.tsv", metadata: root + "/song_data.csv")
        truth = try! PlantedTruth.load(directory: root)
    }

    /// A fresh copy of the imported store (tests that write get their own).
    func copy(into dir: TemporaryDirectory) -> GraphStore {
        let path = dir.file("sample.sqlite")
        let source = try! GraphStore(path: storePath)
        try! source.checkpoint()
        try! FileManager.default.copyItem(atPath: storePath, toPath: path)
        return try! GraphStore(path: path)
    }
}
