import Foundation
import TasteGraphCore
import TasteGraphServing
import TasteGraphStore
import Testing

/// The listened-share metric and its intervals, against hand computation on a small exposure log.
@Suite struct ExperimentReportTests {
    static func exposure(_ at: Int64, _ user: String, _ arm: String, _ items: [String], route: String = "model") -> Exposure {
        Exposure(at: at, user: user, experiment: "e", arm: arm, modelVersion: "v", route: route, items: items)
    }

    /// Window 100 s. Control c: u1 sees [a, b] at 1000 and [a, c] at 1010 (a counts once that day), plays
    /// a at 1050 (in), b at 1101 (one second late), c at 1110 (exactly at the window's end: in); u2 sees
    /// [a, b, c] at 2000 and played b at 1999 (before: out); u3 sees [d] at 3000 and plays it at 3000 (in).
    /// So N = (3, 3, 1), L = (2, 0, 1). Treatment t, a day later: v1 [a, b] both played, v2 [a] not, v3
    /// [c, d] c played: N = (2, 1, 2), L = (2, 0, 1).
    static let exposures = [
        exposure(1000, "u1", "c", ["a", "b"]), exposure(1010, "u1", "c", ["a", "c"]), exposure(2000, "u2", "c", ["a", "b", "c"]),
        exposure(3000, "u3", "c", ["d"]),
        exposure(86_400, "v1", "t", ["a", "b"]), exposure(86_405, "v2", "t", ["a"]), exposure(86_410, "v3", "t", ["c", "d"], route: "cold_start"),
    ]
    static let listens: [(user: String, item: String, at: Int64)] = [
        ("u1", "a", 1050), ("u1", "b", 1101), ("u1", "c", 1110), ("u2", "b", 1999), ("u3", "d", 3000),
        ("v1", "a", 86_410), ("v1", "b", 86_410), ("v3", "c", 86_460), ("v2", "zz", 86_406),
    ]

    static func report() -> ExperimentReport {
        ExperimentReport.compute(experiment: "e", control: "c", arms: ["c", "t"], exposures: exposures, listens: listens, window: 100)
    }

    @Test func countsAndSharesMatchTheHandComputation() throws {
        let r = Self.report()
        #expect(r.arms.map(\.arm) == ["c", "t"])
        let c = r.arms[0], t = r.arms[1]
        #expect((c.exposures, c.users, c.recommended, c.listened) == (4, 3, 7, 3))
        #expect((t.exposures, t.users, t.recommended, t.listened) == (3, 3, 5, 3))
        #expect(abs(c.listenedShare.value - 3.0 / 7) < 1e-12)
        #expect(abs(t.listenedShare.value - 0.6) < 1e-12)
        // Mean per user: control (2/3 + 0 + 1) / 3 = 5/9; treatment (1 + 0 + 1/2) / 3 = 1/2.
        #expect(abs(c.meanUserShare.value - 5.0 / 9) < 1e-12)
        #expect(abs(t.meanUserShare.value - 0.5) < 1e-12)
    }

    @Test func intervalsAreTheDeltaMethodOverUsers() throws {
        let r = Self.report()
        let z = 1.959963984540054
        // Control: R = 3/7, residuals L − R·N = 5/7, −9/7, 4/7 → SS = 122/49; N̄ = 7/3;
        // Var = SS / ((n − 1)·n·N̄²) = (122/49) / (2·3·49/9).
        let varC = (122.0 / 49) / (2 * 3 * 49.0 / 9)
        // Treatment: R = 0.6, residuals 0.8, −0.6, −0.2 → SS = 1.04; N̄ = 5/3; Var = 1.04 / (2·3·25/9).
        let varT = 1.04 / (2 * 3 * 25.0 / 9)
        let c = r.arms[0].listenedShare, t = r.arms[1].listenedShare
        #expect(abs((c.low ?? .nan) - (3.0 / 7 - z * varC.squareRoot())) < 1e-9)
        #expect(abs((c.high ?? .nan) - (3.0 / 7 + z * varC.squareRoot())) < 1e-9)
        #expect(abs((t.low ?? .nan) - (0.6 - z * varT.squareRoot())) < 1e-9)
        let diff = try #require(r.arms[1].vsControl)
        let se = (varC + varT).squareRoot()
        #expect(abs(diff.difference - (0.6 - 3.0 / 7)) < 1e-12)
        #expect(abs((diff.low ?? .nan) - (0.6 - 3.0 / 7 - z * se)) < 1e-9)
        #expect(abs((diff.pValue ?? .nan) - erfc(abs(0.6 - 3.0 / 7) / (se * 2.0.squareRoot()))) < 1e-12)
        #expect(r.arms[0].vsControl == nil)  // the control is not compared with itself
        // Mean per user, control: shares 2/3, 0, 1 → sample variance 7/27, so Var(mean) = 7/81.
        let m = r.arms[0].meanUserShare
        #expect(abs((m.high ?? .nan) - (5.0 / 9 + z * (7.0 / 81).squareRoot())) < 1e-9)
    }

    @Test func dailySeriesAndRoutesSplitTheSameUnits() throws {
        let r = Self.report()
        #expect(r.daily.map { "\($0.day ?? "")/\($0.arm)" } == ["1970-01-01/c", "1970-01-02/t"])
        #expect(r.daily[0].recommended == 7 && r.daily[1].listened == 3)
        #expect(r.daily[1].vsControl?.pValue == nil)  // no control exposures that day: no comparison
        let routes = Dictionary(uniqueKeysWithValues: r.routes.map { ("\($0.arm)/\($0.route ?? "")", $0) })
        #expect(routes["t/cold_start"]?.recommended == 2)
        #expect(routes["t/cold_start"]?.listened == 1)
        #expect(routes["t/model"]?.recommended == 3)
    }

    @Test func aSongCountsOncePerDayAndOnlyPlaysAfterItsExposureWithinTheWindowCount() {
        let exposures = [Self.exposure(100, "u", "c", ["a"]), Self.exposure(200, "u", "c", ["a"]), Self.exposure(86_500, "u", "c", ["a"])]
        let r = ExperimentReport.compute(experiment: "e", control: "c", arms: ["c"], exposures: exposures, listens: [("u", "a", 150)], window: 3_600)
        #expect(r.arms[0].recommended == 2)  // day 0 once, day 1 once
        #expect(r.arms[0].listened == 1)  // the play at 150 follows day 0's first exposure, not day 1's
        let narrow = ExperimentReport.compute(experiment: "e", control: "c", arms: ["c"], exposures: exposures, listens: [("u", "a", 150)], window: 49)
        #expect(narrow.arms[0].listened == 0)  // 150 − 100 = 50 s > 49 s
    }

    /// Arms a and b over the same three users, two songs each: a listened (1, 2, 0), b (0, 1, 0).
    /// R_a = 1/2, R_b = 1/6, N̄ = 2; dᵤ = (Lᵃᵤ − 1)/2 − (Lᵇᵤ − 1/3)/2 = 1/6, 1/6, −1/3, Σdᵤ² = 1/6,
    /// Var = (1/6) / (2·3) = 1/36. Per user: share differences 1/2, 1/2, 0, mean 1/3, Var(mean) = (1/12)/3.
    @Test func pairedComparisonsAreTheDeltaMethodOnPerUserResiduals() throws {
        let a = ["u1": UserTally(recommended: 2, listened: 1), "u2": UserTally(recommended: 2, listened: 2), "u3": UserTally(recommended: 2, listened: 0)]
        let b = ["u1": UserTally(recommended: 2, listened: 0), "u2": UserTally(recommended: 2, listened: 1), "u3": UserTally(recommended: 2, listened: 0),
                 "only-b": UserTally(recommended: 2, listened: 2)]  // left out: a never served this user
        let (pooled, meanUser) = ExperimentReport.paired(a, b)
        let z = 1.959963984540054
        #expect(abs(pooled.difference - 1.0 / 3) < 1e-12)
        #expect(abs((pooled.low ?? .nan) - (1.0 / 3 - z / 6)) < 1e-12)
        #expect(abs((pooled.pValue ?? .nan) - erfc((1.0 / 3) / ((1.0 / 6) * 2.0.squareRoot()))) < 1e-12)
        #expect(abs(meanUser.difference - 1.0 / 3) < 1e-12)
        #expect(abs((meanUser.high ?? .nan) - (1.0 / 3 + z * (1.0 / 36).squareRoot())) < 1e-12)
        // Tallies from exposures: the same counts the report sums.
        let tallies = ExperimentReport.tallies(exposures: Self.exposures, listens: Self.listens, window: 100)
        #expect(tallies["c"]?["u1"] == UserTally(recommended: 3, listened: 2))
        #expect(tallies["t"]?["v2"] == UserTally(recommended: 1, listened: 0))
    }

    @Test func theStoreKeepsExposuresAndTheReportReadsThemBack() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tg-exposure-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try GraphStore(path: dir.appendingPathComponent("s.sqlite").path)
        _ = try store.appendListens([LiveListen(eventID: "l1", user: "u1", item: "a", plays: 1, at: 1050)], receivedAt: 1050)
        try store.appendExposures([Self.exposure(1000, "u1", "c", ["a", "b"]), Self.exposure(1001, "u2", "t", [])])
        let definition = ExperimentDefinition(name: "e", salt: "x", control: "c", arms: [ArmDefinition(name: "c", share: 0.5), ArmDefinition(name: "t", share: 0.5)])
        try store.recordExperiment(name: "e", definition: definition.json, startedAt: 1)
        #expect(try store.exposures(experiment: "e").map(\.items) == [["a", "b"], []])
        let r = try ExperimentReport.load(store: store, name: "e", window: 86_400)
        #expect(r.control == "c")
        #expect(r.arms.map { ($0.arm, $0.users, $0.recommended, $0.listened) }.elementsEqual([("c", 1, 2, 1), ("t", 1, 0, 0)], by: ==))
        #expect(throws: ServingError.self) { try ExperimentReport.load(store: store, name: "nope", window: 1) }
        #expect(throws: LiveWriteError.self) { try store.appendExposures([Self.exposure(1, "u", "c", ["bad\nid"])]) }
    }
}
