/// The kind of dataset a store holds; one store per dataset.
public enum DatasetKind: String, Sendable, Codable, CaseIterable {
    /// Echo Nest Taste Profile triplets with song metadata: items are songs.
    case tasteProfile = "taste-profile"
    /// hetrec2011 Last.fm 2k: listens are counted per artist, so items are artists.
    case lastfm
    /// Timestamped plays (Last.fm 1K users, or `user<TAB>item<TAB>time`): items are tracks, and every
    /// play event is kept with its time (`GraphStore.timedPlays()`); play counts are derived from them.
    case listeningHistory = "listening-history"
}

/// Everything about users, items, artists and tags that the layers above need, in dense-id arrays.
///
/// Indices are the store's dense ids (`UserIndex`, `ItemIndex`, `ArtistIndex` as typed values): `userExternalIDs[u]` is user `u`'s id as imported, and so on.
/// Inactive rows (filtered by `prepare`) stay in the arrays, flagged in `userActive` / `itemActive`.
public struct Catalog: Sendable {
    public var dataset: DatasetKind?
    public var userExternalIDs: [String]
    public var userActive: [Bool]
    public var itemExternalIDs: [String]
    public var itemTitles: [String?]
    public var itemReleases: [String?]
    /// The stored popularity score of each item (see `Popularity`).
    public var itemPopularity: [Double]
    /// Artist of each item, or -1 for a song without metadata.
    public var itemArtist: [Int]
    public var itemActive: [Bool]
    public var artistExternalIDs: [String]
    public var artistNames: [String]
    public var tagNames: [String]
    /// Tags of each artist with how many users gave them, most frequent first (ties: lower tag id first).
    public var artistTags: [[(tag: Int, count: Int)]]

    public init(
        dataset: DatasetKind?, userExternalIDs: [String], userActive: [Bool], itemExternalIDs: [String], itemTitles: [String?],
        itemReleases: [String?], itemPopularity: [Double], itemArtist: [Int], itemActive: [Bool], artistExternalIDs: [String],
        artistNames: [String], tagNames: [String], artistTags: [[(tag: Int, count: Int)]]
    ) {
        self.dataset = dataset
        self.userExternalIDs = userExternalIDs
        self.userActive = userActive
        self.itemExternalIDs = itemExternalIDs
        self.itemTitles = itemTitles
        self.itemReleases = itemReleases
        self.itemPopularity = itemPopularity
        self.itemArtist = itemArtist
        self.itemActive = itemActive
        self.artistExternalIDs = artistExternalIDs
        self.artistNames = artistNames
        self.tagNames = tagNames
        self.artistTags = artistTags
    }

    public var userCount: Int { userExternalIDs.count }
    public var itemCount: Int { itemExternalIDs.count }
    public var artistCount: Int { artistExternalIDs.count }

    /// The top `count` tag ids of an artist.
    public func topTags(ofArtist artist: Int, count: Int) -> [Int] {
        artistTags[artist].prefix(count).map(\.tag)
    }
}

extension Catalog {
    /// A catalog without metadata: users "u0"…, items "i0"…, every item active, by its own artist, with
    /// popularity 0 (tests and planted graphs).
    public init(userCount: Int, itemCount: Int) {
        self.init(
            dataset: nil, userExternalIDs: (0..<userCount).map { "u\($0)" }, userActive: Array(repeating: true, count: userCount),
            itemExternalIDs: (0..<itemCount).map { "i\($0)" }, itemTitles: Array(repeating: nil, count: itemCount),
            itemReleases: Array(repeating: nil, count: itemCount), itemPopularity: Array(repeating: 0, count: itemCount),
            itemArtist: Array(0..<itemCount), itemActive: Array(repeating: true, count: itemCount),
            artistExternalIDs: (0..<itemCount).map { "a\($0)" }, artistNames: (0..<itemCount).map { "Artist \($0)" },
            tagNames: [], artistTags: Array(repeating: [], count: itemCount))
    }
}

extension Catalog {
    /// The external id of a user, an item or an artist.
    /// - Precondition: the index is below the matching count.
    public func externalID(of user: UserIndex) -> String { userExternalIDs[user.rawValue] }
    public func externalID(of item: ItemIndex) -> String { itemExternalIDs[item.rawValue] }
    public func externalID(of artist: ArtistIndex) -> String { artistExternalIDs[artist.rawValue] }

    /// The artist of an item, or nil for a song without metadata.
    public func artist(of item: ItemIndex) -> ArtistIndex? {
        let artist = itemArtist[item.rawValue]
        return artist >= 0 ? ArtistIndex(artist) : nil
    }

    /// External ↔ dense maps of users, items and artists (inactive rows included).
    /// - Complexity: O(count) each; build once and keep it for repeated lookups.
    /// - Throws: `IDMapError` when an external id appears twice (a store written by another tool).
    public func userIDs() throws -> IDMap<UserIndex> { try IDMap(externalIDs: userExternalIDs) }
    public func itemIDs() throws -> IDMap<ItemIndex> { try IDMap(externalIDs: itemExternalIDs) }
    public func artistIDs() throws -> IDMap<ArtistIndex> { try IDMap(externalIDs: artistExternalIDs) }
}
