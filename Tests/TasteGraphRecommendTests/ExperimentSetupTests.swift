import Foundation
import TasteGraphCore
import TasteGraphGraph
import TasteGraphModel
import TasteGraphRecommend
import TestSupport
import Testing

/// `ExperimentSetup`, the split, identity and held-out set that `train` and `evaluate` share.
@Suite struct ExperimentSetupTests {
    /// 64 users × 60 items, 12 distinct items per user (every (user, item) pair occurs once).
    let planted = PlantedGraph.tasteGroups()

    /// All of the planted listens, as a store would hold them.
    var listens: ListenTable {
        var all = planted.train
        for e in 0..<planted.test.count { all.append(user: planted.test.users[e], item: planted.test.items[e], plays: planted.test.plays[e]) }
        return all
    }

    func holdout(validation: Double = 0, seed: UInt64 = 3) -> ExperimentSetup {
        ExperimentSetup(
            catalog: planted.catalog, dataFingerprint: "data", split: .holdout(testFraction: 0.25), validationFraction: validation, seed: seed
        ) { listens }
    }

    func pairs(_ table: ListenTable) -> Set<[Int32]> { Set((0..<table.count).map { [table.users[$0], table.items[$0]] }) }

    func triples(_ table: ListenTable) -> [String] { (0..<table.count).map { "\(table.users[$0]) \(table.items[$0]) \(table.plays[$0])" }.sorted() }

    @Test func holdoutPartitionsTheListensAndItsTestListensIgnoreTheValidationShare() {
        let plain = holdout()
        let validated = holdout(validation: 0.2)
        #expect(plain.split.validation.count == 0)
        #expect(validated.split.validation.count > 0)
        #expect(plain.split.test.count > 0)
        // Same seed and test fraction: the same test listens, hence the same split fingerprint.
        #expect(validated.split.test == plain.split.test)
        #expect(validated.identity.splitFingerprint == plain.identity.splitFingerprint)
        #expect(plain.identity.splitFingerprint == InteractionSplit.testFingerprint(plain.split.test))
        // Validation comes out of train, never out of test.
        let split = validated.split
        #expect(pairs(split.validation).isDisjoint(with: pairs(split.test)))
        #expect(pairs(split.validation).isDisjoint(with: pairs(split.train)))
        #expect((triples(split.train) + triples(split.validation) + triples(split.test)).sorted() == triples(listens))
        #expect(triples(plain.split.train).sorted() == (triples(split.train) + triples(split.validation)).sorted())
        // Another seed holds out other listens.
        #expect(holdout(seed: 4).identity.splitFingerprint != plain.identity.splitFingerprint)
    }

    @Test func explicitSplitOfTheSameListensHasTheHoldoutsIdentity() throws {
        let reference = holdout()
        var listensRead = false
        let explicit = ExperimentSetup(
            catalog: planted.catalog, dataFingerprint: "data",
            split: .explicit(train: reference.split.train, test: reference.split.test), seed: 99
        ) { listensRead = true; return ListenTable() }
        #expect(!listensRead, "an explicit split does not read the store's listens")
        #expect(explicit.split.train == reference.split.train)
        #expect(explicit.split.test == reference.split.test)
        #expect(explicit.identity == reference.identity)
        #expect(explicit.identity.userIDs == planted.catalog.userExternalIDs)
        #expect(explicit.identity.itemIDs == planted.catalog.itemExternalIDs)
        #expect(explicit.identity.dataFingerprint == "data")
    }

    @Test func explicitValidationIsCarvedFromTrainOnly() {
        let reference = holdout()
        let explicit = ExperimentSetup(
            catalog: planted.catalog, dataFingerprint: "data",
            split: .explicit(train: reference.split.train, test: reference.split.test), validationFraction: 0.25, seed: 5
        ) { ListenTable() }
        let split = explicit.split
        #expect(split.validation.count > 0)
        #expect(split.test == reference.split.test)
        #expect(explicit.identity.splitFingerprint == reference.identity.splitFingerprint)
        #expect((triples(split.train) + triples(split.validation)).sorted() == triples(reference.split.train))
        let carved = InteractionSplit.carvingValidation(train: reference.split.train, test: reference.split.test, fraction: 0.25, seed: 5)
        #expect(split.train == carved.train && split.validation == carved.validation)
    }

    @Test func heldOutScoresTestAndExcludesTrainAndValidationItems() {
        let setup = holdout(validation: 0.2)
        let split = setup.split
        let heldOut = setup.heldOut
        #expect(heldOut.userCount == planted.userCount)
        for user in 0..<planted.userCount {
            let test = Set((0..<split.test.count).filter { Int(split.test.users[$0]) == user }.map { Int(split.test.items[$0]) })
            #expect(heldOut.relevant[user] == test)
            let seen = pairs(split.train).union(pairs(split.validation)).filter { $0[0] == Int32(user) }.map { $0[1] }
            #expect(Set(heldOut.excluded[user]) == Set(seen))
            #expect(Set(heldOut.excluded[user]).isDisjoint(with: test.map(Int32.init)))
        }
        // The same value as the trainer's builder (the one `train` and `evaluate` used before).
        let reference = TrainingData(userCount: planted.userCount, itemCount: planted.itemCount, train: split.train, validation: split.validation)
            .heldOut(split.test, alsoExcluded: split.validation)
        #expect(heldOut.relevant == reference.relevant)
        #expect(heldOut.excluded == reference.excluded)
        #expect(heldOut.trainListeners == reference.trainListeners)
        #expect(heldOut.regression.map { [Float($0.user), Float($0.item), $0.target] } == reference.regression.map { [Float($0.user), Float($0.item), $0.target] })
    }

    @Test func carvingValidationForAFitKeepsTestOut() {
        let setup = holdout()
        let fit = setup.carvingValidation(fraction: 0.2)
        #expect(fit.test.count == 0)
        #expect(fit.validation.count > 0)
        #expect((triples(fit.train) + triples(fit.validation)).sorted() == triples(setup.split.train))
    }

    @Test func splitFilesLoadThroughTheCatalogAndAreDescribed() throws {
        let directory = TemporaryDirectory()
        let trainPath = directory.write("train.tsv", "userID\tartistID\tweight\nu0\ti1\t3\nu0\ti2\t1\nu1\ti2\t5\n")
        let testPath = directory.write("test.tsv", "u0\ti3\t2\nu1\ti0\t1\n")
        let catalog = Catalog(userCount: 2, itemCount: 4)
        let setup = try ExperimentSetup(
            catalog: catalog, dataFingerprint: "fp", split: .files(train: trainPath, test: testPath, catalog: catalog), seed: 7
        ) { ListenTable() }
        #expect(setup.split.train == ListenTable(users: [0, 0, 1], items: [1, 2, 2], plays: [3, 1, 5]))
        #expect(setup.split.test == ListenTable(users: [0, 1], items: [3, 0], plays: [2, 1]))
        #expect(setup.heldOut.excluded == [[1, 2], [2]])
        let info = setup.jsonDescription
        #expect(info["split"] as? [String: String] == ["kind": "explicit", "train": trainPath, "test": testPath])
        #expect(info["split_fingerprint"] as? String == setup.identity.splitFingerprint)
        #expect(info["data_fingerprint"] as? String == "fp")
        #expect(info["train_listens"] as? Int == 3)
        #expect(info["test_listens"] as? Int == 2)
        #expect(info["items_ranked"] as? Int == 4)
        #expect(info["validation_listens"] == nil)

        let described = holdout(validation: 0.2).jsonDescription
        let split = try #require(described["split"] as? [String: Any])
        #expect(split["kind"] as? String == "holdout")
        #expect(split["test_fraction"] as? Double == 0.25)
        #expect(split["seed"] as? UInt64 == 3)
        #expect((described["validation_listens"] as? Int ?? 0) > 0)
    }
}
