import Foundation
import TasteGraphCore
import TasteGraphRecommend
import TasteGraphServer
import TasteGraphServing
import TasteGraphStore
import TasteGraphSynth
import TestSupport
import Testing

/// `/v1/sessions/next` and `/v1/playlists/continue` on a store of generated timestamped plays.
@Suite struct SessionRoutesTests {
    /// The route's hand-written JSON (`SessionAnswerJSON`) reads back as a `SessionAnswer` whose encoding by
    /// the API's JSONEncoder is the same JSON value.
    static func expectEncoderAgrees(_ body: Data, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let typed = try decoder.decode(SessionAnswer.self, from: body)
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let again = try JSONSerialization.jsonObject(with: encoder.encode(typed)) as? NSDictionary
        let served = try JSONSerialization.jsonObject(with: body) as? NSDictionary
        #expect(again != nil && again == served, sourceLocation: sourceLocation)
    }

    /// A server over 200 generated listeners' timed plays, with the planted successors.
    struct Fixture {
        let dir = TemporaryDirectory()
        let live: LiveServing
        let client: RouterClient
        let catalog: Catalog
        /// Planted successor of each song, by external id.
        let successor: [String: String]

        init() throws {
            var parameters = SessionSampleParameters()
            parameters.users = 200
            parameters.songs = 600
            parameters.artists = 60
            parameters.followProbability = 0.6
            let files = try SessionSampleGenerator(parameters: parameters).write(to: dir.file("sample"))
            let store = try GraphStore(path: dir.file("s.sqlite"))
            _ = try TimedPlaysImporter(store: store).importPlays(path: files.plays, format: .plays, metadata: files.songData)
            catalog = try store.catalog()
            let data = try FitData(userCount: catalog.userCount, itemCount: catalog.itemCount, train: try store.listens())
            let identity = ModelIdentity(userIDs: catalog.userExternalIDs, itemIDs: catalog.itemExternalIDs, dataFingerprint: try store.dataFingerprint())
            try ItemKNNRecommender.fit(data, identity: identity).save(to: dir.file("knn.tgm"))
            try store.checkpoint()
            live = try LiveServing(configuration: ServingConfiguration(storePath: dir.file("s.sqlite"), modelPath: dir.file("knn.tgm")))
            var settings = ServerSettings()
            settings.token = ServerFixture.token
            client = RouterClient(TasteGraphHTTPServer(live: live, settings: settings))
            var successor: [String: String] = [:]
            for line in try String(contentsOfFile: files.truthSuccessors, encoding: .utf8).split(separator: "\n").dropFirst() {
                let f = line.split(separator: "\t")
                successor[String(f[0])] = String(f[1])
            }
            self.successor = successor
        }
    }

    @Test func nextTracksFollowThePlantedSuccessorAndMatchTheDocument() async throws {
        let f = try Fixture()
        defer { f.live.close() }
        // The most played song: its planted successor should lead the answer.
        let song = f.catalog.itemExternalIDs[f.catalog.itemPopularity.indices.max { f.catalog.itemPopularity[$0] < f.catalog.itemPopularity[$1] }!]
        let reply = try await f.client.post(
            "/v1/sessions/next", json: #"{"items":["\#(song)","nope"],"user":"\#(f.catalog.userExternalIDs[0])","context":{"hour":21,"weekday":4,"device":"mobile"},"k":5}"#)
        #expect(reply.status == 200, "\(reply.text.prefix(300))")
        let items = (reply.json["items"] as? [[String: Any]] ?? []).compactMap { $0["item"] as? String }
        #expect(items.count == 5)
        #expect(items.first == f.successor[song], "\(items) vs planted \(f.successor[song] ?? "?")")
        #expect(!items.contains(song))
        #expect(reply.json["unknown_items"] as? [String] == ["nope"])
        #expect(reply.json["personalized"] as? Bool == true)
        try Self.expectEncoderAgrees(reply.body)
        let schema = try #require(OpenAPIDocumentTests.schema(of: ((OpenAPIDocumentTests.document["paths"] as? [String: Any])?["/v1/sessions/next"] as? [String: Any]).flatMap { (($0["post"] as? [String: Any])?["responses"] as? [String: Any])?["200"] as? [String: Any] }))
        #expect((schema["required"] as? [String] ?? []).allSatisfy { reply.json[$0] != nil })

        let bad = try await f.client.post("/v1/sessions/next", json: #"{"items":["nope"]}"#)
        #expect(bad.status == 422)
        let badHour = try await f.client.post("/v1/sessions/next", json: #"{"items":["\#(song)"],"context":{"hour":24}}"#)
        #expect(badHour.status == 422)
    }

    @Test func playlistContinuationSkipsThePlaylistAndCapsArtists() async throws {
        let f = try Fixture()
        defer { f.live.close() }
        let playlist = Array(f.catalog.itemExternalIDs.prefix(5))
        let body = #"{"items":[\#(playlist.map { "\"\($0)\"" }.joined(separator: ","))],"k":20,"max_per_artist":1}"#
        let reply = try await f.client.post("/v1/playlists/continue", json: body)
        #expect(reply.status == 200, "\(reply.text.prefix(300))")
        let answered = reply.json["items"] as? [[String: Any]] ?? []
        #expect(!answered.isEmpty)
        let ids = answered.compactMap { $0["item"] as? String }
        #expect(Set(ids).isDisjoint(with: playlist))
        try Self.expectEncoderAgrees(reply.body)
        let titles = answered.compactMap { $0["title"] as? String }
        #expect(titles.count == answered.count)
        let artists = answered.compactMap { $0["artist"] as? String }
        #expect(Set(artists).count == artists.count, "one item per artist at most: \(artists)")
    }
}
