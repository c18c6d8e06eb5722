import Foundation
import TasteGraphCore
import TasteGraphSessions
import TasteGraphSynth
import TestSupport
import Testing

@Suite struct SessionizationTests {
    @Test func aGapLongerThanTheLimitStartsASessionAndExactlyTheLimitDoesNot() {
        // User 1's plays come unsorted; 30 min = 1800 s.
        let plays = TimedPlays(
            users: [1, 0, 1, 0, 0, 1],
            items: [12, 1, 10, 2, 3, 11],
            times: [5_000, 0, 1_000, 1_800, 3_601, 1_100])
        let sessions = ListeningSessions(plays, gapMinutes: 30)
        // User 0: 0, 1800 (gap exactly 1800: same session), 3601 (gap 1801: new). User 1: 1000, 1100, then 5000 (gap 3900).
        #expect(sessions.count == 4)
        #expect(sessions.sessionUser == [0, 0, 1, 1])
        #expect(Array(sessions.items(of: 0)) == [1, 2])
        #expect(Array(sessions.items(of: 1)) == [3])
        #expect(Array(sessions.items(of: 2)) == [10, 11])
        #expect(Array(sessions.items(of: 3)) == [12])
        let stats = SessionStatistics(sessions)
        #expect(stats.sessions == 4 && stats.plays == 6 && stats.listeners == 2)
        #expect(stats.playsByHour[0] == 1 + 1 + 1 + 1 && stats.playsByHour[1] == 2)  // 3601 s and 5000 s fall in hour 1
        #expect(stats.playsByWeekday[3] == 6)  // 1970-01-01 was a Thursday
    }

    @Test func timesRoundTripThroughRFC3339() {
        for t: Int64 in [0, 1_241_478_537, 1_767_571_200, 4_102_444_799] {
            #expect(RFC3339.seconds(RFC3339.string(t)) == t)
        }
        #expect(RFC3339.string(1_241_478_537) == "2009-05-04T23:08:57Z")
        #expect(RFC3339.weekday(1_767_571_200) == 0)  // 2026-01-05 is a Monday
        let offset: Int64? = RFC3339.seconds("2009-05-04T23:08:57+02:00")
        #expect(offset == Int64(1_241_471_337))  // 23:08:57 at +02:00 is 21:08:57Z
        #expect(RFC3339.seconds("2009-02-30T00:00:00Z") == nil)
    }
}

@Suite struct NextItemModelTests {
    /// Three short sessions where 1 is always followed by 2, and 3 by 4.
    static let sessions = ListeningSessions(gapSeconds: 1_800, sessions: [
        (0, [1, 2, 5], [0, 10, 20]), (1, [3, 4], [100, 110]), (2, [1, 2], [200, 210]), (2, [0, 3, 4], [5_000, 5_010, 5_020]),
    ])

    @Test func transitionWalksFollowThePlantedSuccessor() throws {
        let data = NextItemTrainingData(sessions: Self.sessions, itemCount: 6, userCount: 3)
        let model = try TransitionWalks.fit(data, settings: .init(window: 1, maxItems: 1, decay: 1, secondStep: 0, branching: 5, popularityPenalty: 0))
        var scores = CandidateScores(itemCount: 6)
        model.score(SessionQuery(items: [1]), into: &scores)
        #expect(scores.top(1).first?.item == 2)
        #expect(scores.rank(of: 2, cutoff: 20) == 1)
        #expect(scores.rank(of: 4, cutoff: 20) == nil)  // never follows 1
    }

    @Test func sessionKNNVotesWithTheSessionsThatShareItems() throws {
        let data = NextItemTrainingData(sessions: Self.sessions, itemCount: 6, userCount: 3)
        let model = try SessionKNN.fit(data, settings: .init(neighbours: 10, sampleSize: 10, positionDecay: false, maxItems: 10))
        var scores = CandidateScores(itemCount: 6)
        model.score(SessionQuery(items: [3]), into: &scores)
        // Sessions {3,4} (sim 1/√2) and {0,3,4} (1/√3) share item 3: 4 gets both votes, 0 only the second.
        #expect(abs(scores.values[4] - (1 / 2.0.squareRoot() + 1 / 3.0.squareRoot()).float) < 1e-5)
        #expect(abs(scores.values[0] - (1 / 3.0.squareRoot()).float) < 1e-5)
        #expect(scores.values[1] == 0 && scores.values[2] == 0)
    }

    @Test func evaluationCountsHitsAndReciprocalRanks() throws {
        let data = NextItemTrainingData(sessions: Self.sessions, itemCount: 6, userCount: 3)
        let model = try TransitionWalks.fit(data, settings: .init(window: 1, maxItems: 1, decay: 1, secondStep: 0, branching: 5, popularityPenalty: 0))
        // 1 → 2 is predicted first (rank 1); 2 → 0 is never seen (miss).
        let test = ListeningSessions(gapSeconds: 1_800, sessions: [(0, [1, 2, 0], [0, 10, 20])])
        let scores = NextItemEvaluation.evaluate(model, on: test, context: false)
        #expect(scores.predictions == 2)
        #expect(scores.hitRate == 0.5)
        #expect(scores.mrr == 0.5)
    }

    @Test func contextLiftsTheGroupTheListenerPlaysAtThisHour() throws {
        // User 0 plays artist 0's item 0 at night (hour 1) and artist 1's item 1 by day (hour 13).
        let night: Int64 = 3_600, day: Int64 = 13 * 3_600
        let sessions = ListeningSessions(gapSeconds: 1_800, sessions: [
            (0, [0, 0], [night, night + 60]), (0, [1, 1], [day, day + 60]),
            (0, [0], [86_400 + night]), (0, [1], [86_400 + day]),
        ])
        let profile = try ContextProfile(
            sessions: sessions, userCount: 1, groups: ItemGroups(itemArtist: [0, 1]), settings: .init(strength: 1, bucketHours: 3, splitWeekend: false, smoothing: 1))
        var scores = CandidateScores(itemCount: 2)
        scores.add(0, 1)
        scores.add(1, 1)
        profile.rerank(&scores, for: SessionQuery(items: [], user: 0, hour: 2))
        #expect(scores.values[0] > scores.values[1])
        var anonymous = CandidateScores(itemCount: 2)
        anonymous.add(0, 1)
        anonymous.add(1, 1)
        profile.rerank(&anonymous, for: SessionQuery(items: [], user: nil, hour: 2))
        #expect(anonymous.values[0] == anonymous.values[1])
    }
}

@Suite struct PlantedSessionTests {
    /// The generated sample's planted successors are what the transition walks recover, and they beat
    /// session-kNN there (small sample: 150 listeners).
    @Test func generatedSessionsAreReproducibleAndTheirStructureIsRecovered() throws {
        let dir = TemporaryDirectory()
        var parameters = SessionSampleParameters()
        parameters.users = 150
        parameters.songs = 600
        parameters.artists = 60
        let files = try SessionSampleGenerator(parameters: parameters).write(to: dir.file("a"))
        _ = try SessionSampleGenerator(parameters: parameters).write(to: dir.file("b"))
        for name in ["plays.tsv", "song_data.csv", "truth_hours.tsv", "truth_successors.tsv", "truth_users.tsv"] {
            #expect(FileManager.default.contents(atPath: dir.file("a/\(name)")) == FileManager.default.contents(atPath: dir.file("b/\(name)")), "\(name) differs")
        }
        // Parse the plays back (ids dense in order of appearance).
        var users: [String: Int32] = [:], items: [String: Int32] = [:]
        var plays = TimedPlays()
        for line in try String(contentsOfFile: files.plays, encoding: .utf8).split(separator: "\n") {
            let f = line.split(separator: "\t").map(String.init)
            let u = users[f[0]] ?? Int32(users.count); users[f[0]] = u
            let i = items[f[1]] ?? Int32(items.count); items[f[1]] = i
            plays.append(user: u, item: i, at: try #require(RFC3339.seconds(f[2])))
        }
        let sessions = ListeningSessions(plays, gapMinutes: 30)
        #expect(sessions.count == files.sessionCount)  // sessions are ≥ 31 min apart: the 30-minute rule recovers them
        let split = NextItemSplit(sessions, heldOutShare: 0.2, itemCount: items.count)
        let data = NextItemTrainingData(sessions: split.train, itemCount: items.count, userCount: users.count)
        let walks = NextItemEvaluation.evaluate(try TransitionWalks.fit(data, settings: .init(window: 1, maxItems: 5, decay: 0.5, secondStep: 0.3, branching: 20, popularityPenalty: 0)), on: split.test)
        let knn = NextItemEvaluation.evaluate(try SessionKNN.fit(data, settings: SessionKNN.defaultSettings), on: split.test)
        let popularity = NextItemEvaluation.evaluate(try NextPopularity.fit(data, settings: NextPopularity.defaultSettings), on: split.test)
        #expect(walks.mrr > knn.mrr && walks.hitRate > knn.hitRate)
        #expect(knn.hitRate > popularity.hitRate)
        // About followProbability (0.4) of next plays are the planted successor: the walks rank most of those first.
        #expect(walks.mrr > 0.3)
    }
}

extension Double {
    var float: Float { Float(self) }
}
