import Foundation
import TasteGraphServing
import Testing

/// Arm assignment by salted user hash: shares, stability under edits, layers.
@Suite struct ExperimentAssignmentTests {
    static let ids = (0..<100_000).map { "user-\($0)" }

    static func experiment(_ shares: [(String, Double)], salt: String = "s1") -> ExperimentDefinition {
        ExperimentDefinition(name: "e", salt: salt, arms: shares.map { ArmDefinition(name: $0.0, share: $0.1) })
    }

    static func assign(_ experiment: ExperimentDefinition) -> [String] { ids.map { experiment.arm(for: $0).name } }

    /// Tolerance: 0.005 absolute, about 5 standard deviations of a 10 % share over 100,000 ids (σ ≈ 0.00095).
    @Test func assignmentMatchesTheSharesOn100kIds() throws {
        let e = Self.experiment([("control", 0.1), ("new", 0.1), ("old", 0.8)])
        try e.validate()
        let arms = Self.assign(e)
        for (arm, share) in [("control", 0.1), ("new", 0.1), ("old", 0.8)] {
            let observed = Double(arms.filter { $0 == arm }.count) / Double(arms.count)
            #expect(abs(observed - share) < 0.005, "\(arm): \(observed) vs \(share)")
        }
    }

    @Test func theSameUserGetsTheSameArmEveryTimeAndAnotherSaltReshuffles() {
        let e = Self.experiment([("a", 0.5), ("b", 0.5)])
        #expect(Self.assign(e) == Self.assign(e))
        // Pinned: the hash is SHA-256, so a restart, a reload or another machine gives this very bucket.
        #expect(TrafficSplit.bucket(of: "user-1", salt: "s1") == TrafficSplit.bucket(of: "user-1", salt: "s1"))
        #expect(TrafficSplit.bucket(of: "user-1", salt: "s1") == Self.pinnedBucket)
        let other = Self.experiment([("a", 0.5), ("b", 0.5)], salt: "s2")
        let moved = zip(Self.assign(e), Self.assign(other)).filter { $0 != $1 }.count
        #expect(abs(Double(moved) / Double(Self.ids.count) - 0.5) < 0.01)  // independent hashes: about half change
    }

    static let pinnedBucket = 8_470  // python3: int.from_bytes(sha256(b"s1\nuser-1").digest()[:8], "big") % 10000

    @Test func editingAnArmsModelPolicyOrLiveModeMovesNobody() {
        let before = Self.experiment([("control", 0.1), ("new", 0.1), ("old", 0.8)])
        var after = before
        after.arms[1].model = "/models/other.tgck"
        after.arms[2].live = .off
        after.arms[0].policy = PolicyDefinition(name: "p", coldStart: .init(minListens: 5))
        #expect(Self.assign(before) == Self.assign(after))
    }

    @Test func growingAnArmMovesOnlyTheUsersItMustAndNeverTheArmsBeforeIt() {
        let before = Self.assign(Self.experiment([("control", 0.1), ("new", 0.1), ("old", 0.8)]))
        let after = Self.assign(Self.experiment([("control", 0.1), ("new", 0.2), ("old", 0.7)]))
        var moves: [String: Int] = [:]
        for (a, b) in zip(before, after) where a != b { moves["\(a)→\(b)", default: 0] += 1 }
        #expect(Set(moves.keys) == ["old→new"])  // control untouched, nobody leaves new
        let share = Double(moves["old→new"] ?? 0) / Double(Self.ids.count)
        #expect(abs(share - 0.1) < 0.005)  // exactly the 10 % the new share needs
        for (a, b) in zip(before, after) where a == "control" { #expect(b == "control") }
    }

    @Test func invalidDefinitionsNameTheField() {
        #expect(throws: ExperimentError.self) { try Self.experiment([("a", 0.5), ("b", 0.4)]).validate() }
        #expect(throws: ExperimentError.self) { try Self.experiment([("a", 0.5), ("a", 0.5)]).validate() }
        #expect(throws: ExperimentError.self) { try Self.experiment([("a", 1.5), ("b", -0.5)]).validate() }
        var unknownControl = Self.experiment([("a", 1)])
        unknownControl.control = "zzz"
        do {
            try unknownControl.validate()
            Issue.record("an unknown control must be refused")
        } catch let error as ExperimentError {
            #expect(error.field == "control")
        } catch { Issue.record("\(error)") }
    }

    @Test func experimentsShareOneLayerOnDisjointSlices() throws {
        var first = Self.experiment([("a", 0.5), ("b", 0.5)])
        first.traffic = TrafficSlice(layer: "ranking", from: 0, to: 0.3)
        var second = ExperimentDefinition(name: "f", salt: "s9", arms: [ArmDefinition(name: "x", share: 1)])
        second.traffic = TrafficSlice(layer: "ranking", from: 0.3, to: 0.5)
        let set = try ExperimentSet([first, second])
        var counts: [String: Int] = [:]
        for id in Self.ids.prefix(20_000) { counts[set.route(id)?.experiment.name ?? "none", default: 0] += 1 }
        #expect(abs(Double(counts["e", default: 0]) / 20_000 - 0.3) < 0.015)
        #expect(abs(Double(counts["f", default: 0]) / 20_000 - 0.2) < 0.015)
        #expect(abs(Double(counts["none", default: 0]) / 20_000 - 0.5) < 0.015)

        var overlapping = second
        overlapping.traffic = TrafficSlice(layer: "ranking", from: 0.2, to: 0.5)
        #expect(throws: ExperimentError.self) { try ExperimentSet([first, overlapping]) }
        var otherLayer = second
        otherLayer.traffic = TrafficSlice(layer: "other", from: 0.3, to: 0.5)
        #expect(throws: ExperimentError.self) { try ExperimentSet([first, otherLayer]) }
    }

    @Test func experimentFilesResolvePathsAndRejectBadJSONWithTheField() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tg-exp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let policy = #"{"name": "seg", "cold_start": {"min_listens": 5}, "low_discovery": {"max_distinct_artists": 4, "novelty_weight": 0.5}}"#
        try policy.write(to: dir.appendingPathComponent("policy.json"), atomically: true, encoding: .utf8)
        let good = #"{"name": "e1", "salt": "x", "control": "a", "arms": [{"name": "a", "share": 0.5, "model": "m.tgck", "live": "off"}, {"name": "b", "share": 0.5, "policy_file": "policy.json"}]}"#
        try good.write(to: dir.appendingPathComponent("good.json"), atomically: true, encoding: .utf8)
        let loaded = try ExperimentDefinition.load(path: dir.appendingPathComponent("good.json").path)
        #expect(loaded.arms[0].model == dir.appendingPathComponent("m.tgck").standardizedFileURL.path)
        #expect(loaded.arms[0].liveMode == .off)
        #expect(loaded.arms[1].policy?.lowDiscovery?.maxDistinctArtists == 4)
        #expect(try ExperimentDefinition.decode(json: loaded.json) == loaded)

        let bad = #"{"name": "e1", "salt": "x", "arms": [{"name": "a", "share": "half"}]}"#
        try bad.write(to: dir.appendingPathComponent("bad.json"), atomically: true, encoding: .utf8)
        do {
            _ = try ExperimentDefinition.load(path: dir.appendingPathComponent("bad.json").path)
            Issue.record("a string share must be refused")
        } catch let error as ExperimentError {
            #expect(error.description.contains("arms[0].share"), "\(error)")
            #expect(error.description.contains("bad.json"))
        }
    }
}
