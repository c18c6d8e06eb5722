import Foundation
import TasteGraphCore
import TasteGraphModel
import TasteGraphRecommend
import TestSupport
import Testing

/// Model files whose digest is right but whose contents are not: what `make fuzz`'s model-file-sealed
/// harness found (issue 12, item 8; the inputs are kept in Fuzz/corpus/model-file-sealed/regression-*).
/// The digest proves a file is unchanged since it was written, not that TasteGraph wrote it, so each must
/// be refused on load with a `CheckpointError` instead of loading and then reading out of bounds.
@Suite struct ModelFileContentTests {
    /// The fitted model's file, decoded, changed by `edit`, and re-sealed with a correct digest.
    func resealed(_ kind: ModelKind, _ edit: (inout ModelFile) throws -> Void) throws -> Data {
        let directory = TemporaryDirectory()
        let path = directory.file("model")
        try Fitted.models[kind]!.save(to: path)
        var file = try ModelFile.decode(try Data(contentsOf: URL(fileURLWithPath: path)))
        try edit(&file)
        return try file.encoded()
    }

    func replaceInts(_ file: inout ModelFile, _ name: String, _ change: (inout [Int32]) -> Void) {
        let index = file.arrays.firstIndex { $0.name == name }!
        guard case .int(var values) = file.arrays[index].values else { Issue.record("\(name) is not an integer array"); return }
        change(&values)
        file.arrays[index].values = .int(values)
    }

    func expectRefused(_ data: Data, mentioning phrase: String) {
        do {
            let model = try RecommenderFile.load(data, path: "m")
            Issue.record("loaded a \(model.kind) model with inconsistent arrays")
        } catch let error as CheckpointError {
            #expect(error.reason.contains(phrase), "\(error.reason)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func resealingAnUnchangedFileStillLoads() throws {
        // The control: the edits below, not the re-sealing, are what gets refused.
        for kind in [ModelKind.als, .itemknn, .gcn] {
            let data = try resealed(kind) { _ in }
            let model = try RecommenderFile.load(data, path: "m")
            #expect(model.scores(user: UserIndex(0)) == Fitted.models[kind]!.scores(user: UserIndex(0)), "\(kind)")
        }
    }

    /// Found by the fuzzer: an item index past the catalog in ALS's confidence rows made `explain` read
    /// outside the item factors (AddressSanitizer: SEGV in RowSolver.addSystem).
    @Test func alsItemIndexOutsideTheCatalogIsRefused() throws {
        let itemCount = Fitted.planted.itemCount
        expectRefused(try resealed(.als) { file in replaceInts(&file, "items") { $0[0] = Int32(itemCount) } }, mentioning: "outside 0..<\(itemCount)")
        expectRefused(try resealed(.als) { file in replaceInts(&file, "items") { $0[$0.count - 1] = -1 } }, mentioning: "outside")
    }

    @Test func alsOffsetsThatDescendAreRefused() throws {
        expectRefused(try resealed(.als) { file in replaceInts(&file, "offsets") { $0[1] = $0[2] + 1 } }, mentioning: "not ascending")
    }

    @Test func itemKNNNeighborOutsideTheCatalogIsRefused() throws {
        expectRefused(try resealed(.itemknn) { file in replaceInts(&file, "neighbors") { $0[0] = 1_000_000 } }, mentioning: "outside")
        expectRefused(try resealed(.itemknn) { file in replaceInts(&file, "userItems") { $0[0] = -5 } }, mentioning: "outside")
    }

    /// Edits one entry of the GCN header's parameter layout (JSON inside the file's header text).
    func gcnWithLayoutEntry(_ name: String, _ change: @escaping (inout [String: Any]) -> Void) throws -> Data {
        try resealed(.gcn) { file in
            var header = try JSONSerialization.jsonObject(with: file.header) as! [String: Any]
            var layout = header["layout"] as! [String: Any]
            var entries = layout["entries"] as! [[String: Any]]
            let index = entries.firstIndex { $0["name"] as? String == name }!
            change(&entries[index])
            layout["entries"] = entries
            header["layout"] = layout
            file.header = try JSONSerialization.data(withJSONObject: header)
        }
    }

    /// Found by the fuzzer: a decoder parameter's offset moved past the parameters made `predictLog1p`
    /// trap (index out of range); rows × columns near Int.max would trap on the multiplication.
    @Test func gcnLayoutThatDoesNotTileTheParametersIsRefused() throws {
        expectRefused(try gcnWithLayoutEntry("rankBias") { $0["offset"] = ($0["offset"] as! Int) + 100_000 }, mentioning: "layout entry 'rankBias'")
        expectRefused(try gcnWithLayoutEntry("dotScale") { $0["rows"] = Int.max / 2; $0["columns"] = 4 }, mentioning: "layout entry 'dotScale'")
        expectRefused(try gcnWithLayoutEntry("userBias") { $0["rows"] = -1 }, mentioning: "layout entry 'userBias'")
    }

    @Test func gcnDecoderParameterOfTheWrongSizeIsRefused() throws {
        // Tiles the parameters, but dotScale (the last entry) claims two values and globalMean none.
        let data = try resealed(.gcn) { file in
            var header = try JSONSerialization.jsonObject(with: file.header) as! [String: Any]
            var layout = header["layout"] as! [String: Any]
            var entries = layout["entries"] as! [[String: Any]]
            let mean = entries.firstIndex { $0["name"] as? String == "globalMean" }!
            let scale = entries.firstIndex { $0["name"] as? String == "dotScale" }!
            try #require(scale == mean + 1 && scale == entries.count - 1, "layout order changed: adapt this test")
            entries[mean]["rows"] = 0
            entries[scale]["offset"] = entries[mean]["offset"]
            entries[scale]["rows"] = 2
            layout["entries"] = entries
            header["layout"] = layout
            file.header = try JSONSerialization.data(withJSONObject: header)
        }
        expectRefused(data, mentioning: "decoder parameters do not match")
    }
}
