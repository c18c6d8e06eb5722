import Foundation
import TasteGraphServer
import TasteGraphServing
import TasteGraphStore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Experiments through the API: arms by user, live modes, policies, the exposure log, the report, the
/// replay, and exposures surviving SIGKILL.
@Suite(.serialized) struct ExperimentServerTests {
    static let twoModels = ExperimentDefinition(
        name: "models", salt: "m1", control: "knn",
        arms: [ArmDefinition(name: "knn", share: 0.5, model: "knn"), ArmDefinition(name: "als", share: 0.5, model: "als")])

    static func single(_ arm: ArmDefinition) -> ExperimentDefinition {
        ExperimentDefinition(name: "one", salt: "o", arms: [arm])
    }

    static func items(_ reply: RouterClient.Reply) -> [String] {
        (reply.json["recommendations"] as? [[String: Any]] ?? []).compactMap { $0["item"] as? String }
    }

    @Test func eachUserIsAnsweredByTheirArmAndEveryListIsLoggedBeforeTheAnswer() async throws {
        let f = try ServerFixture(experiments: [Self.twoModels])
        let users = Array(f.live.snapshot.recommendations.users.prefix(40))
        var served: [String: [String]] = [:]
        for user in users {
            let reply = try await f.client.get("/v1/users/\(user)/recommendations?k=5&at=2026-12-01T10:00:00Z")
            #expect(reply.status == 200)
            let arm = Self.twoModels.arm(for: user).name
            #expect((reply.json["experiment"] as? [String: Any])?["arm"] as? String == arm)
            #expect(((reply.json["model"] as? [String: Any])?["kind"] as? String).map { $0.hasPrefix(arm == "knn" ? "item" : "als") } == true,
                    "\(reply.text.prefix(200))")
            served[user] = Self.items(reply)
        }
        #expect(Set(users.map { Self.twoModels.arm(for: $0).name }) == ["knn", "als"])  // both arms serve
        // Every answered list is in the journal or already moved; after a move, all are in the table.
        try f.live.moveExposures()
        #expect(try ExposureJournal.pending(storePath: f.storePath).isEmpty)
        let logged = try GraphStore.openExisting(path: f.storePath).exposures(experiment: "models")
        #expect(logged.count == users.count)
        for exposure in logged {
            #expect(exposure.items == served[exposure.user])
            #expect(exposure.arm == Self.twoModels.arm(for: exposure.user).name)
            #expect(exposure.at == 1_796_119_200)
        }
    }

    @Test func liveModesDecideWhatAListenChanges() async throws {
        let user = try ServerFixture().live.snapshot.recommendations.users[3]
        var lists: [LiveMode: (before: [String], after: [String])] = [:]
        for mode in LiveMode.allCases {
            let f = try ServerFixture(experiments: [Self.single(ArmDefinition(name: mode.rawValue, share: 1, live: mode))])
            let before = Self.items(try await f.client.get("/v1/users/\(user)/recommendations?k=10"))
            let heard = before[0]
            let body = #"{"listens":[{"event_id":"m-\#(mode.rawValue)","user":"\#(user)","item":"\#(heard)","plays":5,"at":"2026-12-01T10:00:00Z"}]}"#
            #expect(try await f.client.post("/v1/listens", json: body, token: ServerFixture.token).status == 200)
            lists[mode] = (before, Self.items(try await f.client.get("/v1/users/\(user)/recommendations?k=10")))
        }
        let off = try #require(lists[.off]), filter = try #require(lists[.filter]), fold = try #require(lists[.foldIn])
        #expect(off.after == off.before)  // the batch list: the listen changes nothing
        #expect(!filter.after.contains(filter.before[0]))  // heard songs leave the list…
        #expect(Array(filter.after.prefix(9)) == Array(filter.before.dropFirst()))  // …and nothing else moves
        #expect(!fold.after.contains(fold.before[0]))
    }

    @Test func policiesRouteByBehaviourAndSayWhy() async throws {
        let coldFirst = PolicyDefinition(name: "cold", coldStart: .init(minListens: 1_000))
        let f = try ServerFixture(experiments: [Self.single(ArmDefinition(name: "p", share: 1, policy: coldFirst))])
        let user = f.live.snapshot.recommendations.users[0]
        let cold = try await f.client.get("/v1/users/\(user)/recommendations?k=5")
        #expect(cold.json["cold_start"] as? Bool == true)
        #expect((cold.json["route"] as? [String: Any])?["route"] as? String == "cold_start")
        #expect(((cold.json["route"] as? [String: Any])?["reason"] as? String)?.contains("< 1000") == true)

        let discovery = PolicyDefinition(name: "novel", lowDiscovery: .init(maxDistinctArtists: 100_000, noveltyWeight: 0.5, maxPerArtist: 1))
        let g = try ServerFixture(experiments: [Self.single(ArmDefinition(name: "p", share: 1, policy: discovery))])
        let novel = try await g.client.get("/v1/users/\(user)/recommendations?k=10")
        #expect((novel.json["route"] as? [String: Any])?["route"] as? String == "low_discovery")
        let artists = (novel.json["recommendations"] as? [[String: Any]] ?? []).compactMap { $0["artist"] as? String }
        #expect(artists.count == 10 && Set(artists).count == 10)  // at most one song per artist

        let blend = PolicyDefinition(name: "blend", lowEngagement: .init(maxPlaysPerListen: 1e9, popularWeight: 1))
        let h = try ServerFixture(experiments: [Self.single(ArmDefinition(name: "p", share: 1, policy: blend))])
        let popular = try await h.client.get("/v1/users/\(user)/recommendations?k=5")
        #expect((popular.json["route"] as? [String: Any])?["route"] as? String == "low_engagement")
        // Weight 1: the most listened unheard songs, in order.
        let catalog = h.live.snapshot.recommendations.catalog
        let heard = Set(h.live.snapshot.recommendations.history(of: user).map { catalog.externalID(of: $0.item) })
        var listeners: [String: Int] = [:]
        for u in catalog.userExternalIDs.indices {
            for listen in h.live.snapshot.recommendations.history(of: catalog.userExternalIDs[u]) { listeners[catalog.externalID(of: listen.item), default: 0] += 1 }
        }
        let expected = listeners.filter { !heard.contains($0.key) }.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(5).map(\.key)
        #expect(Self.items(popular) == expected)
    }

    @Test func theServersPolicyAnswersUsersOutsideEveryExperiment() async throws {
        var half = Self.twoModels
        half.traffic = TrafficSlice(from: 0, to: 0.5)
        let f = try ServerFixture(experiments: [half], policy: PolicyDefinition(name: "everyone", coldStart: .init(minListens: 1_000)))
        let users = Array(f.live.snapshot.recommendations.users.prefix(30))
        var outside = 0
        for user in users {
            let reply = try await f.client.get("/v1/users/\(user)/recommendations?k=3")
            if let arm = reply.json["experiment"] as? [String: Any] {
                #expect(arm["arm"] as? String == half.arm(for: user).name)
                #expect(reply.json["route"] == nil)  // the arm decides: no policy
            } else {
                outside += 1
                #expect((reply.json["route"] as? [String: Any])?["policy"] as? String == "everyone")
                #expect(reply.json["cold_start"] as? Bool == true)
            }
        }
        #expect(outside > 0 && outside < users.count)
    }

    @Test func theReportCountsAPlayWithinTheWindowOfItsExposure() async throws {
        let f = try ServerFixture(experiments: [Self.twoModels])
        let user = f.live.snapshot.recommendations.users[1]
        let list = Self.items(try await f.client.get("/v1/users/\(user)/recommendations?k=10&at=1796119200"))
        let body = #"{"listens":[{"event_id":"r1","user":"\#(user)","item":"\#(list[2])","plays":1,"at":"2026-12-01T10:05:00Z"}]}"#
        #expect(try await f.client.post("/v1/listens", json: body, token: ServerFixture.token).status == 200)
        let report = try await f.client.get("/v1/experiments/models")
        #expect(report.status == 200)
        let decoded = try report.decode(ExperimentReport.self)
        let arm = try #require(decoded.arms.first { $0.arm == Self.twoModels.arm(for: user).name })
        #expect((arm.users, arm.recommended, arm.listened) == (1, 10, 1))
        #expect(abs(arm.listenedShare.value - 0.1) < 1e-12)
        let short = try await f.client.get("/v1/experiments/models?window_hours=0.05")  // 3 minutes: the play came after 5
        #expect(try short.decode(ExperimentReport.self).arms.first { $0.arm == arm.arm }?.listened == 0)
    }

    /// Acknowledged lists are logged: five answered, SIGKILL, and the store holds the five.
    @Test func exposuresSurviveSIGKILL() async throws {
        let f = try ServerFixture()
        let tokenFile = f.dir.write("token", ServerFixture.token + "\n")
        let experimentFile = f.dir.write("experiment.json", #"{"name": "kill", "salt": "k", "arms": [{"name": "a", "share": 0.5}, {"name": "b", "share": 0.5}]}"#)
        let server = try ServerProcess(store: f.storePath, model: f.knnPath, tokenFile: tokenFile, extra: ["--experiment", experimentFile])
        let users = Array(f.live.snapshot.recommendations.users.prefix(5))
        var answered: [String: String] = [:]
        for user in users {
            let reply = try LoopbackHTTP.send(port: server.port, path: "/v1/users/\(user)/recommendations?k=4")
            #expect(reply.status == 200)
            answered[user] = reply.body
        }
        server.signal(SIGKILL)
        _ = server.wait()
        // Killed before its mover ran (it moves every 0.25 s): what it answered is in its journal file,
        // and whatever else holds the store moves it (here the recovery a report runs; a restarted server too).
        let store = try GraphStore.openExisting(path: f.storePath)
        let leftover = try ExposureJournal.pending(storePath: f.storePath).filter { $0.experiment == "kill" }.count
        let moved = try ExposureJournal.recover(storePath: f.storePath, into: store)
        #expect(moved >= leftover)
        #expect(try ExposureJournal.pending(storePath: f.storePath).isEmpty)
        let logged = try store.exposures(experiment: "kill")
        #expect(logged.count == users.count)
        for exposure in logged {
            #expect(exposure.items.count == 4)
            #expect(exposure.items.allSatisfy { answered[exposure.user]?.contains("\"\($0)\"") == true })
        }
    }

    /// Two replays with one seed give the same report; the plan changes with the seed.
    @Test func theReplayIsReproducibleWithASeed() throws {
        let f = try ServerFixture()
        guard let executable = ServerProcess.executable else { throw LoopbackHTTP.Failure(description: "tastegraph-server is not built") }
        let experimentFile = f.dir.write("replay.json", #"""
            {"name": "replay", "salt": "r", "control": "off", "arms": [
              {"name": "off", "share": 0.5, "model": "knn.tgm", "live": "off"},
              {"name": "fold", "share": 0.5, "model": "knn.tgm"}]}
            """#)
        // Held out: every third listen of the first 60 users (withheld from the replay's copy of the store).
        let snapshot = f.live.snapshot.recommendations
        var heldOut: [HeldOutListen] = []
        for user in snapshot.users.prefix(60) {
            for (j, listen) in snapshot.history(of: user).enumerated() where j % 3 == 0 {
                heldOut.append(HeldOutListen(user: user, item: snapshot.catalog.externalID(of: listen.item), plays: Int64(listen.plays), at: nil))
            }
        }
        var settings = ReplaySettings()
        settings.seed = 7
        settings.rounds = 3
        settings.connections = 2
        let plan = ReplayPlan(listens: heldOut, settings: settings)
        #expect(plan.listenCount == heldOut.count)
        var reports: [ExperimentReport] = []
        for _ in 0..<2 {
            let local = try LocalReplayServer(store: f.storePath, model: f.knnPath, experiments: [experimentFile], withholding: heldOut, executable: executable)
            #expect(local.withheld == heldOut.count)
            let driver = ReplayDriver(url: local.url, token: local.token, settings: settings)
            let totals = try driver.run(plan)
            #expect(totals.listensAccepted == heldOut.count)
            #expect(totals.requests == 2 * plan.requestCount - plan.users.reduce(0) { $0 + $1.rounds.filter(\.listens.isEmpty).count })
            reports.append(try driver.report(experiment: "replay", windowHours: 24))
            try local.stop()
            #expect(!FileManager.default.fileExists(atPath: local.folder))
        }
        #expect(reports[0] == reports[1])
        #expect(reports[0].arms.map(\.arm) == ["off", "fold"])
        #expect(reports[0].daily.count == 6)  // 3 rounds = 3 simulated days × 2 arms
        #expect(reports[0].arms.reduce(0) { $0 + $1.listened } > 0)
        settings.seed = 8
        #expect(ReplayPlan(listens: heldOut, settings: settings).users.map { $0.rounds.map(\.exposureAt) } != plan.users.map { $0.rounds.map(\.exposureAt) })
        // The user's store was only read.
        #expect(try GraphStore.openExisting(path: f.storePath).exposureCount() == 0)

        // Every arm over every user: the same users in each run, and the paired difference of pooled shares
        // is exactly the difference of the two runs' shares (only its interval comes from the pairing).
        var each = settings
        each.seed = 7
        let definition = try ExperimentDefinition.load(path: experimentFile)
        let result = try EachArmReplay(definition: definition, store: f.storePath, model: f.knnPath, executable: executable, settings: each, windowHours: 24)
            .run(plan, heldOut: heldOut)
        #expect(result.arms.map(\.arm) == ["off", "fold"])
        #expect(result.arms.allSatisfy { $0.users == plan.users.count })
        let pair = try #require(result.paired.first)
        #expect(pair.arm == "fold" && pair.against == "off" && pair.users == plan.users.count)
        #expect(abs(pair.listenedShare.difference - (result.arms[1].listenedShare.value - result.arms[0].listenedShare.value)) < 1e-12)
        #expect((pair.listenedShare.high ?? 0) - (pair.listenedShare.low ?? 0) > 0)
        #expect(try GraphStore.openExisting(path: f.storePath).exposureCount() == 0)
    }
}
