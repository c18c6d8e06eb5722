import Foundation
import TasteGraphAnalytics
import TasteGraphCore
import TasteGraphRecommend
import TasteGraphServer
import TasteGraphServing
import TasteGraphStore
import TasteGraphSynth
import TestSupport

/// The bundled sample (GraphData: 2,000 listeners of 8 planted genres) in a fresh store, an item-KNN and
/// an ALS model fitted on all of its listens, a stored segmentation, and a server over them with a token.
///
/// The store and models are built once per test process and copied into each test's directory, so a test
/// that writes listens never disturbs another.
struct ServerFixture {
    static let token = "test-token-0123456789abcdef"
    let dir: TemporaryDirectory
    let storePath: String
    let knnPath: String
    let alsPath: String
    let live: LiveServing
    let server: TasteGraphHTTPServer
    let client: RouterClient

    /// - Parameter experiments: arms whose `model` is "knn" or "als" name the fixture's model files.
    init(model: String = "knn", settings: ServerSettings = ServerSettings(), experiments: [ExperimentDefinition] = [], policy: PolicyDefinition? = nil) throws {
        dir = TemporaryDirectory()
        let template = try Template.shared.get()
        for name in ["s.sqlite", "knn.tgm", "als.tgm"] {
            try FileManager.default.copyItem(atPath: template.dir.file(name), toPath: dir.file(name))
        }
        if model == "gcn" {
            try FileManager.default.copyItem(atPath: try GCNTemplate.shared.get(), toPath: dir.file("gcn.tgck"))
        }
        storePath = dir.file("s.sqlite")
        knnPath = dir.file("knn.tgm")
        alsPath = dir.file("als.tgm")
        let modelPath = model == "als" ? alsPath : model == "gcn" ? dir.file("gcn.tgck") : knnPath
        var configuration = ServingConfiguration(storePath: storePath, modelPath: modelPath)
        let files = ["knn": knnPath, "als": alsPath]
        configuration.experiments = try ExperimentSet(experiments.map { experiment in
            var experiment = experiment
            for index in experiment.arms.indices {
                experiment.arms[index].model = experiment.arms[index].model.map { files[$0] ?? $0 }
                if let model = experiment.arms[index].policy?.model { experiment.arms[index].policy?.model = files[model] ?? model }
            }
            return experiment
        })
        configuration.listenerPolicy = policy
        live = try LiveServing(configuration: configuration)
        var settings = settings
        if settings.token == nil { settings.token = Self.token }
        server = TasteGraphHTTPServer(live: live, settings: settings)
        client = RouterClient(server)
    }

    /// The sample's planted truth: each artist's genre and each user's home genres.
    static var truth: PlantedTruth { get throws { try PlantedTruth.load(directory: SharedData.packageRoot + "/GraphData") } }

    /// Built once per process: the store (imported, checkpointed into one file) and the model files.
    final class Template: Sendable {
        let dir = TemporaryDirectory()

        init() throws {
            let store = try GraphStore(path: dir.file("s.sqlite"))
            let root = SharedData.packageRoot + "/GraphData"
            _ = try TasteProfileImporter(store: store).importTriplets(path: root + "/triplets.tsv", metadata: root + "/song_data.csv")
            let catalog = try store.catalog()
            let data = try FitData(userCount: catalog.userCount, itemCount: catalog.itemCount, train: try store.listens())
            let identity = ModelIdentity(userIDs: catalog.userExternalIDs, itemIDs: catalog.itemExternalIDs, dataFingerprint: try store.dataFingerprint())
            try ItemKNNRecommender.fit(data, identity: identity).save(to: dir.file("knn.tgm"))
            try ALSRecommender.fit(data, identity: identity, config: ALSConfig()).save(to: dir.file("als.tgm"))
            var parameters = SegmentationParameters()
            parameters.seed = 1
            let run = try ListenerSegments.detect(store: store, parameters: parameters)
            _ = try store.saveSegmentation(run.stored)
            try store.checkpoint()
        }

        static let shared = Once { try Template() }
    }
}

/// A GCN trained for a few epochs on the template store by the `tastegraph` executable (built beside the
/// tests), once per process: enough for placement and routing, not for accuracy.
enum GCNTemplate {
    static let shared = Once { () throws -> String in
        let template = try ServerFixture.Template.shared.get()
        let out = template.dir.file("gcn.tgck")
        guard let binary = ServerProcess.executable.map({ URL(fileURLWithPath: $0).deletingLastPathComponent().appendingPathComponent("tastegraph").path }),
              FileManager.default.isExecutableFile(atPath: binary)
        else { throw LoopbackHTTP.Failure(description: "the tastegraph executable is not built; run `swift build`") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["train", "--store", template.dir.file("s.sqlite"), "--out", out, "--epochs", "3", "--hidden", "16", "--seed", "1", "--quiet"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw LoopbackHTTP.Failure(description: "tastegraph train exited \(process.terminationStatus)") }
        return out
    }
}

/// A value computed once, the first time it is asked for (an error is rethrown to every caller).
final class Once<Value: Sendable>: Sendable {
    let result: Result<Value, any Error>
    init(_ make: () throws -> Value) { result = Result { try make() } }
    func get() throws -> Value { try result.get() }
}
