import Foundation
import TasteGraphModel
import TestSupport
import Testing

/// `train --friend-weight / --tag-weight` (issue 16, item 3): the heterogeneous GCN end to end on a small
/// hetrec2011-shaped directory, and the flags' usage errors.
@Suite struct RelationFlagsTests {
    /// 8 users in two taste groups over 8 artists, friendships inside each group, two tags per group.
    static func lastfmStore(_ dir: TemporaryDirectory) -> String {
        let lastfm = TemporaryDirectory()
        var artists = "id\tname\turl\tpictureURL\n"
        for a in 1...8 { artists += "\(a)\tArtist \(a)\tu\tp\n" }
        var listens = "userID\tartistID\tweight\n"
        var tagged = "userID\tartistID\ttagID\tday\tmonth\tyear\n"
        for u in 1...8 {
            let group = u <= 4 ? 0 : 4
            for a in (group + 1)...(group + 4) where (a + u) % 4 != 0 { listens += "\(u)\t\(a)\t\(10 * u + a)\n" }
            for a in (group + 1)...(group + 4) { tagged += "\(u)\t\(a)\t\(group == 0 ? 1 : 3)\t1\t1\t2009\n" }
            tagged += "\(u)\t\(group + 1)\t\(group == 0 ? 2 : 4)\t1\t1\t2009\n"
        }
        var friends = "userID\tfriendID\n"
        for (a, b) in [(1, 2), (2, 3), (3, 4), (5, 6), (6, 7), (7, 8)] { friends += "\(a)\t\(b)\n\(b)\t\(a)\n" }
        lastfm.write("artists.dat", artists)
        lastfm.write("user_artists.dat", listens)
        lastfm.write("user_friends.dat", friends)
        lastfm.write("user_taggedartists.dat", tagged)
        lastfm.write("tags.dat", "tagID\ttagValue\n1\trock\n2\tclassic rock\n3\tjazz\n4\tbebop\n")
        let store = dir.file("lastfm.sqlite")
        let imported = run(["import", "lastfm", lastfm.path, "--store", store, "--quiet"])
        #expect(imported.status == 0, "\(imported.stderr)")
        return store
    }

    @Test func trainsAndRecommendsWithFriendsAndTags() throws {
        let dir = TemporaryDirectory()
        let store = Self.lastfmStore(dir)
        let checkpoint = dir.file("hetero.tgck")
        let trained = run([
            "train", "--store", store, "--out", checkpoint, "--epochs", "4", "--validate-every", "2", "--hidden", "16",
            "--friend-weight", "0.5", "--tag-weight", "1", "--tags-per-item", "1", "--json", "--quiet",
        ])
        #expect(trained.status == 0, "\(trained.stderr)")
        let last = trained.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let json = try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any]
        #expect(json?["validation_recall@20"] != nil)
        let recommended = run(["recommend", "--store", store, "--checkpoint", checkpoint, "--user", "1", "-k", "3", "--json"])
        #expect(recommended.status == 0, "\(recommended.stderr)")
        #expect(recommended.stdout.contains("Artist"))
    }

    /// Without the flags, a store with friendships and tags trains with the validated weights (0.5, 2) and
    /// 25 tags per item; the flags still turn them off; a Taste Profile store (neither relation) keeps both
    /// off. Every store gets the cold-item calibration's quantiles.
    @Test func storesWithRelationsDefaultToTheValidatedWeights() throws {
        let dir = TemporaryDirectory()
        let store = Self.lastfmStore(dir)
        func model(_ extra: [String], store: String) throws -> GCNConfig {
            let path = dir.file("m\(extra.count)-\(UUID().uuidString).tgck")
            let trained = run(["train", "--store", store, "--out", path, "--epochs", "2", "--validate-every", "2", "--hidden", "16", "--quiet"] + extra)
            #expect(trained.status == 0, "\(trained.stderr)")
            return try Checkpoint.read(from: path).header.model
        }
        let lastfm = try model([], store: store)
        #expect((lastfm.friendWeight, lastfm.tagWeight, lastfm.tagsPerItem) == (0.5, 2, 25))
        #expect(lastfm.coldItemBiasQuantiles == [0.25, 0.5, 0.75, 0.9, 1.0])
        let off = try model(["--friend-weight", "0", "--tag-weight", "0"], store: store)
        #expect((off.friendWeight, off.tagWeight) == (0, 0))
        let sample = try model([], store: GraphCommandTests.sampleStore(dir))
        #expect((sample.friendWeight, sample.tagWeight, sample.tagsPerItem) == (0, 0, 10))
        #expect(sample.coldItemBiasQuantiles == [0.25, 0.5, 0.75, 0.9, 1.0])
    }

    @Test func weightsOutOfRangeOrWithoutTheRelationAreUsageErrors() {
        let dir = TemporaryDirectory()
        let store = Self.lastfmStore(dir)
        let negative = run(["train", "--store", store, "--out", dir.file("a"), "--friend-weight=-1", "--quiet"])
        #expect(negative.status == 2)
        #expect(negative.stderr.contains("--friend-weight must be a finite number ≥ 0"))
        #expect(run(["train", "--store", store, "--out", dir.file("b"), "--tag-weight", "nan", "--quiet"]).status == 2)
        #expect(run(["train", "--store", store, "--out", dir.file("c"), "--tags-per-item", "0", "--quiet"]).status == 2)
        // A taste-profile store has no friendships: the flag says what is missing instead of training without it.
        let triplets = dir.write("t.tsv", "u1\tS1\t3\nu2\tS1\t1\nu2\tS2\t5\nu1\tS3\t2\n")
        let plain = dir.file("plain.sqlite")
        #expect(run(["import", "taste-profile", triplets, "--store", plain, "--quiet"]).status == 0)
        let missing = run(["train", "--store", plain, "--out", dir.file("d"), "--friend-weight", "1", "--epochs", "1", "--quiet"])
        #expect(missing.status == 2, "\(missing.stderr)")
        #expect(missing.stderr.contains("holds no friendships"))
    }
}
