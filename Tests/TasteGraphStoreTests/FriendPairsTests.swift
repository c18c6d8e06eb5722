import Foundation
import TestSupport
import Testing

@testable import TasteGraphStore

@Suite struct FriendPairsTests {
    /// The fixture's users 2 and 3 are friends (listed both ways): dense ids 0 and 1, in (user, friend) order.
    @Test func readsTheImportedFriendshipsByDenseID() throws {
        let dir = TemporaryDirectory()
        LastfmFixture.write(into: dir)
        let store = try GraphStore(path: dir.file("l.sqlite"))
        _ = try LastfmImporter(store: store).importDirectory(dir.path)
        let pairs = try store.friendPairs()
        #expect(pairs.map(\.user) == [0, 1])
        #expect(pairs.map(\.friend) == [1, 0])
        // An inactive user's friendships are left out, like its listens.
        try store.db.execute("UPDATE users SET active = 0 WHERE external_id = '3'")
        #expect(try store.friendPairs().isEmpty)
    }
}
