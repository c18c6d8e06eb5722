import Foundation
import TestSupport
import Testing

@testable import TasteGraphStore

/// A miniature hetrec2011 directory: CRLF line ends like the shipped files, Latin-1 tags, a tag assignment
/// naming an artist missing from artists.dat.
enum LastfmFixture {
    static let artists = "id\tname\turl\tpictureURL\n1\tMötley Crüe\thttp://a/1\thttp://p/1\n2\tBjörk\thttp://a/2\t\n3\tABBA\thttp://a/3\thttp://p/3\n"
    static let userArtists = "userID\tartistID\tweight\r\n2\t1\t100\r\n2\t2\t50\r\n3\t2\t7\r\n3\t3\t1\r\n"
    static let friends = "userID\tfriendID\r\n2\t3\r\n3\t2\r\n"
    static let taggedArtists = "userID\tartistID\ttagID\tday\tmonth\tyear\n2\t1\t1\t1\t4\t2009\n3\t1\t1\t1\t5\t2009\n3\t2\t2\t1\t5\t2010\n2\t99\t2\t1\t1\t2008\n"
    /// tags.dat in ISO-8859-1: "fußball" is 0x66 0x75 0xDF …
    static let tags: [UInt8] = Array("tagID\ttagValue\r\n1\tmetal\r\n2\tfu".utf8) + [0xDF] + Array("ball\r\n".utf8)

    static func write(into dir: TemporaryDirectory) {
        dir.write("artists.dat", artists)
        dir.write("user_artists.dat", userArtists)
        dir.write("user_friends.dat", friends)
        dir.write("user_taggedartists.dat", taggedArtists)
        dir.write("tags.dat", bytes: tags)
    }
}

@Suite struct LastfmImportTests {
    @Test func importsEveryFile() throws {
        let dir = TemporaryDirectory()
        LastfmFixture.write(into: dir)
        let store = try GraphStore(path: dir.file("l.sqlite"))
        let report = try LastfmImporter(store: store).importDirectory(dir.path)
        let stats = try store.stats()
        #expect(stats.users == 2)
        #expect(stats.artists == 3)
        #expect(stats.items == 3)
        #expect(stats.listens == 4)
        #expect(stats.plays == 158)
        #expect(stats.tags == 2)
        #expect(stats.tagAssignments == 4)
        #expect(stats.friendPairs == 2)
        #expect(report.files.map(\.kind) == ["artists", "tags", "listens", "friends", "tag-assignments"])
        #expect(report.warnings.contains { $0.contains("1 tag assignments name artists missing") })
        #expect(try store.db.text("SELECT name FROM tags WHERE external_id = '2'") == "fußball")
        #expect(try store.db.text("SELECT name FROM artists WHERE external_id = '1'") == "Mötley Crüe")
        // Every item is an artist; item_tags counts the users per (item, tag) for known artists only.
        #expect(try store.db.integer("SELECT COUNT(*) FROM items WHERE artist_id IS NULL") == 0)
        #expect(try store.db.rows("SELECT i.external_id, t.name, it.count FROM item_tags it JOIN items i ON i.id = it.item_id JOIN tags t ON t.id = it.tag_id ORDER BY 1, 2") == [
            [.text("1"), .text("metal"), .integer(2)], [.text("2"), .text("fußball"), .integer(1)],
        ])
        #expect(try store.db.integer("SELECT COUNT(*) FROM tag_assignments WHERE artist_id IS NULL AND artist_external_id = '99'") == 1)
    }

    @Test func reimportIsIdempotent() throws {
        let dir = TemporaryDirectory()
        LastfmFixture.write(into: dir)
        let store = try GraphStore(path: dir.file("l.sqlite"))
        _ = try LastfmImporter(store: store).importDirectory(dir.path)
        let first = try store.stats()
        _ = try LastfmImporter(store: store).importDirectory(dir.path)
        #expect(try store.stats() == first)
        #expect(try store.importLog().count == 10)
    }

    /// Unknown references, undecodable text and wrong headers name file, line and reason.
    @Test(arguments: [
        ("user_artists.dat", "userID\tartistID\tweight\r\n2\t1\t100\r\n2\t42\t5\r\n", 3, "unknown artist id 42: not in artists.dat"),
        ("user_artists.dat", "userID\tartistID\tweight\r\n2\t1\t100\r\n2\t1\t5\r\n", 3, "duplicate (user, artist) pair 2, 1"),
        ("user_artists.dat", "userID\tartistID\tweight\r\n2\t1\t-1\r\n", 2, "play count -1 is negative"),
        ("user_artists.dat", "user\tartist\tweight\r\n2\t1\t1\r\n", 1, "expected the header"),
        ("user_friends.dat", "userID\tfriendID\r\n2\t3\r\n2\t77\r\n", 3, "unknown user id 77: not in user_artists.dat"),
        ("user_taggedartists.dat", "userID\tartistID\ttagID\tday\tmonth\tyear\n2\t1\t5\t1\t1\t2009\n", 2, "unknown tag id 5: not in tags.dat"),
        ("user_taggedartists.dat", "userID\tartistID\ttagID\tday\tmonth\tyear\n2\t1\t1\t1\t1\n", 2, "wrong column count: expected 6"),
        ("artists.dat", "id\tname\turl\tpictureURL\n1\tA\tu\tp\n1\tB\tu\tp\n", 3, "duplicate artist id 1"),
    ])
    func badInputNamesFileLineAndReason(file: String, content: String, line: Int, reason: String) throws {
        let dir = TemporaryDirectory()
        LastfmFixture.write(into: dir)
        let path = dir.write(file, content)
        let store = try GraphStore(path: dir.file("l.sqlite"))
        let before = try snapshot(store)
        let error = expectInputError { _ = try LastfmImporter(store: store).importDirectory(dir.path) }
        #expect(error?.file == path)
        #expect(error?.line == line)
        #expect(error?.reason.contains(reason) == true, "reason was: \(error?.reason ?? "none")")
        #expect(try snapshot(store) == before)
    }

    @Test func invalidUTF8InArtistNamesIsRejected() throws {
        let dir = TemporaryDirectory()
        LastfmFixture.write(into: dir)
        let path = dir.write("artists.dat", bytes: Array("id\tname\turl\tpictureURL\n1\tM".utf8) + [0xF6] + Array("tley\tu\tp\n".utf8))
        let store = try GraphStore(path: dir.file("l.sqlite"))
        let error = expectInputError { _ = try LastfmImporter(store: store).importDirectory(dir.path) }
        #expect(error?.file == path)
        #expect(error?.line == 2)
        #expect(error?.reason.contains("artist name is not valid UTF-8") == true)
    }

    @Test func missingRequiredFileIsAClearError() throws {
        let dir = TemporaryDirectory()
        dir.write("artists.dat", LastfmFixture.artists)
        let store = try GraphStore(path: dir.file("l.sqlite"))
        let error = expectInputError { _ = try LastfmImporter(store: store).importDirectory(dir.path) }
        #expect(error?.reason.contains("user_artists.dat are required") == true)
    }

    /// The shipped dataset, when ../shared/datasets/lastfm-2k is present.
    @Test(.enabled(if: SharedData.lastfmDirectory != nil, "skipped: ../shared/datasets/lastfm-2k is absent"))
    func realLastfmImportHasTheDocumentedCounts() throws {
        let dir = TemporaryDirectory()
        let store = try GraphStore(path: dir.file("lastfm.sqlite"))
        let report = try LastfmImporter(store: store).importDirectory(SharedData.lastfmDirectory!)
        let stats = try store.stats()
        #expect(stats.users == 1_892)
        #expect(stats.artists == 17_632)
        #expect(stats.items == 17_632)
        #expect(stats.listens == 92_834)
        #expect(stats.tags == 11_946)
        #expect(stats.tagAssignments == 186_479)
        #expect(stats.friendPairs == 25_434)
        #expect(report.files.allSatisfy { $0.rowsRejected == 0 })
        #expect(try store.db.text("SELECT name FROM tags WHERE external_id = '7982'") == "fußball")
    }
}
