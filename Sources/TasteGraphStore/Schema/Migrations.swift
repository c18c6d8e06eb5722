import SQLite

/// The store's schema, as an ordered list of migrations. `PRAGMA user_version` records how many have
/// been applied; opening a store applies the missing ones, each in its own transaction.
///
/// Ids: every table keys rows by a dense internal id (0, 1, 2, … in order of first appearance), and keeps
/// the id the input used as `external_id`, unchanged. Filters never delete rows: they clear `active`.
enum Migrations {
    struct Migration {
        let version: Int
        let summary: String
        let sql: String
    }

    static let all: [Migration] = [
        Migration(
            version: 1, summary: "users, artists, items, tags, listens, friends, import log",
            sql: """
                CREATE TABLE dataset_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);

                CREATE TABLE users (
                    id INTEGER PRIMARY KEY,
                    external_id TEXT NOT NULL UNIQUE,
                    active INTEGER NOT NULL DEFAULT 1
                );

                CREATE TABLE artists (
                    id INTEGER PRIMARY KEY,
                    external_id TEXT NOT NULL UNIQUE,   -- Last.fm artist id, or the artist name for songs
                    name TEXT NOT NULL,
                    url TEXT,
                    picture_url TEXT
                );

                -- The listening unit: songs (Taste Profile) or artists (Last.fm, one item per artist).
                CREATE TABLE items (
                    id INTEGER PRIMARY KEY,
                    external_id TEXT NOT NULL UNIQUE,
                    artist_id INTEGER REFERENCES artists(id),   -- NULL only for songs without metadata
                    title TEXT,
                    release TEXT,
                    year INTEGER,
                    popularity REAL NOT NULL DEFAULT 0,         -- see Popularity.swift
                    active INTEGER NOT NULL DEFAULT 1
                );
                CREATE INDEX items_by_artist ON items(artist_id);

                CREATE TABLE tags (
                    id INTEGER PRIMARY KEY,
                    external_id TEXT NOT NULL UNIQUE,
                    name TEXT NOT NULL
                );

                -- Last.fm tag assignments as shipped. Some name artists missing from artists.dat: they are
                -- kept with artist_id NULL (no data is lost) and left out of item_tags.
                CREATE TABLE tag_assignments (
                    user_id INTEGER NOT NULL REFERENCES users(id),
                    artist_external_id TEXT NOT NULL,
                    tag_id INTEGER NOT NULL REFERENCES tags(id),
                    artist_id INTEGER REFERENCES artists(id),
                    day INTEGER, month INTEGER, year INTEGER,
                    import_id INTEGER NOT NULL,
                    PRIMARY KEY (user_id, artist_external_id, tag_id)
                ) WITHOUT ROWID;

                -- Derived from tag_assignments after each import: how many users gave the item the tag.
                CREATE TABLE item_tags (
                    item_id INTEGER NOT NULL REFERENCES items(id),
                    tag_id INTEGER NOT NULL REFERENCES tags(id),
                    count INTEGER NOT NULL,
                    PRIMARY KEY (item_id, tag_id)
                ) WITHOUT ROWID;

                -- import_id is the import-log row of the file that last wrote the pair: a pair seen twice
                -- in one file is a duplicate (rejected); a later file replaces the count (idempotent).
                CREATE TABLE listens (
                    user_id INTEGER NOT NULL REFERENCES users(id),
                    item_id INTEGER NOT NULL REFERENCES items(id),
                    play_count INTEGER NOT NULL CHECK (play_count >= 0),
                    import_id INTEGER NOT NULL,
                    PRIMARY KEY (user_id, item_id)
                ) WITHOUT ROWID;

                CREATE TABLE friends (
                    user_id INTEGER NOT NULL REFERENCES users(id),
                    friend_id INTEGER NOT NULL REFERENCES users(id),
                    import_id INTEGER NOT NULL,
                    PRIMARY KEY (user_id, friend_id)
                ) WITHOUT ROWID;

                CREATE TABLE imports (
                    id INTEGER PRIMARY KEY,
                    kind TEXT NOT NULL,
                    file TEXT NOT NULL,
                    fingerprint TEXT NOT NULL,          -- SHA-256 of the file's bytes
                    bytes INTEGER NOT NULL,
                    rows_read INTEGER NOT NULL,
                    rows_accepted INTEGER NOT NULL,
                    rows_rejected INTEGER NOT NULL,
                    started_at TEXT NOT NULL,
                    seconds REAL NOT NULL
                );

                CREATE TABLE preparations (
                    id INTEGER PRIMARY KEY,
                    parameters TEXT NOT NULL,           -- JSON
                    report TEXT NOT NULL,               -- JSON
                    created_at TEXT NOT NULL
                );
                """),
        Migration(
            version: 2, summary: "related-artist lists and listener segmentations",
            sql: """
                -- Top-k "fans also like" lists from `related --batch`, one row per (artist, rank).
                CREATE TABLE related_artists (
                    artist_id INTEGER NOT NULL REFERENCES artists(id),
                    rank INTEGER NOT NULL,
                    related_artist_id INTEGER NOT NULL REFERENCES artists(id),
                    score REAL NOT NULL,
                    method TEXT NOT NULL,
                    parameters TEXT NOT NULL,            -- JSON, with the seed
                    computed_at TEXT NOT NULL,
                    PRIMARY KEY (artist_id, rank)
                ) WITHOUT ROWID;

                -- One community-detection run, with everything needed to reproduce it.
                CREATE TABLE segmentations (
                    id INTEGER PRIMARY KEY,
                    algorithm TEXT NOT NULL,
                    parameters TEXT NOT NULL,            -- JSON
                    seed INTEGER NOT NULL,
                    data_fingerprint TEXT NOT NULL,
                    modularity REAL NOT NULL,
                    created_at TEXT NOT NULL
                );
                CREATE TABLE segments (
                    segmentation_id INTEGER NOT NULL REFERENCES segmentations(id),
                    segment_index INTEGER NOT NULL,
                    stable_id TEXT NOT NULL,
                    label TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    profile TEXT NOT NULL,               -- JSON: top artists, top tags, median plays
                    PRIMARY KEY (segmentation_id, segment_index)
                ) WITHOUT ROWID;
                -- segment_index NULL: unassigned (shares no neighbour with anyone, or in a segment below
                -- --min-size that could not be merged). Every active user with listens has a row.
                CREATE TABLE segment_members (
                    segmentation_id INTEGER NOT NULL REFERENCES segmentations(id),
                    user_id INTEGER NOT NULL REFERENCES users(id),
                    segment_index INTEGER,
                    score REAL NOT NULL,
                    PRIMARY KEY (segmentation_id, user_id)
                ) WITHOUT ROWID;
                """),
        Migration(
            version: 3, summary: "text-embedding cache",
            sql: """
                -- Sentence embeddings of item texts (`tastegraph embed`), keyed by the model that made them and the
                -- SHA-256 (hex) of the text's UTF-8 bytes, so any store, split or run can reuse them.
                CREATE TABLE text_embeddings (
                    model TEXT NOT NULL,
                    text_hash TEXT NOT NULL,
                    dimension INTEGER NOT NULL,
                    vector BLOB NOT NULL,                -- dimension float32 values, little-endian
                    PRIMARY KEY (model, text_hash)
                ) WITHOUT ROWID;
                """),
        Migration(
            version: 4, summary: "live writes: listen events, feedback, tags of items added live",
            sql: """
                -- One row per live listen event (`GraphStore.appendListens`), in arrival order (seq). The event id
                -- is the client's idempotency key: an id already here is a duplicate and changes nothing. Each
                -- accepted event also adds its plays to `listens`, under the import-log row of kind 'live'.
                -- event_id is unique, but kept so by the writer (`LiveEventIndex`, in memory) rather than by an
                -- index: client ids are often random (UUIDs), and a B-tree over random keys dirties about one
                -- page per event at every commit (about 3× slower ingest, measured); this table only appends.
                CREATE TABLE listen_events (
                    seq INTEGER PRIMARY KEY,
                    event_id TEXT NOT NULL,
                    user_id INTEGER NOT NULL REFERENCES users(id),
                    item_id INTEGER NOT NULL REFERENCES items(id),
                    plays INTEGER NOT NULL CHECK (plays >= 1),
                    at INTEGER NOT NULL,                 -- event time, Unix seconds (the client's clock)
                    received_at INTEGER NOT NULL         -- Unix seconds (the server's clock)
                );

                -- Like / dislike / skip events (`GraphStore.appendFeedback`), in arrival order (rowid).
                CREATE TABLE feedback (
                    event_id TEXT PRIMARY KEY,
                    user_id INTEGER NOT NULL REFERENCES users(id),
                    item_id INTEGER NOT NULL REFERENCES items(id),
                    kind TEXT NOT NULL CHECK (kind IN ('like', 'dislike', 'skip')),
                    at INTEGER NOT NULL,
                    received_at INTEGER NOT NULL
                );

                -- The tags of items added live (`GraphStore.addItems`), in the order given. They are also
                -- counted once each in item_tags; this table survives a Last.fm import's rebuild of item_tags,
                -- which adds them back.
                CREATE TABLE item_live_tags (
                    item_id INTEGER NOT NULL REFERENCES items(id),
                    position INTEGER NOT NULL,
                    tag_id INTEGER NOT NULL REFERENCES tags(id),
                    PRIMARY KEY (item_id, position)
                ) WITHOUT ROWID;

                CREATE INDEX tags_by_name ON tags(name);
                """),
        Migration(
            version: 5, summary: "experiments: exposures of served lists, experiment definitions",
            sql: """
                -- The recommendation lists served (`GraphStore.appendExposures`, `ExposureJournal`): who saw which
                -- items in which order, when, from which experiment arm and model. Stored in chunks of lines, as
                -- the exposure journal writes them (`at TAB user TAB experiment TAB arm TAB model TAB route TAB
                -- item TAB item …` then a newline; ids never hold control characters): moving a journal file
                -- is then one insert, not one per list (at tens of thousands of lists a second, per-row inserts
                -- and their index cost a tenth of the server's throughput). `GraphStore.exposures(experiment:)`
                -- reads them back as rows; `count` is the chunk's number of lines.
                CREATE TABLE exposure_chunks (
                    id INTEGER PRIMARY KEY,
                    count INTEGER NOT NULL,
                    lines BLOB NOT NULL
                );

                -- Journal files (`ExposureJournal`, STORE-exposures/sealed-N.log) whose lines are in the table
                -- above, recorded in the same transaction, so a file moved before a crash is not moved twice.
                CREATE TABLE exposure_journal_files (
                    name TEXT PRIMARY KEY,
                    moved INTEGER NOT NULL
                );

                -- The experiments a server ran, as last started (their JSON definition), so a report knows
                -- the arms and the control without the file.
                CREATE TABLE experiments (
                    name TEXT PRIMARY KEY,
                    definition TEXT NOT NULL,
                    started_at INTEGER NOT NULL
                );
                """),
        Migration(
            version: 6, summary: "timestamped plays",
            sql: """
                -- Imported play events with their times (`import plays`, `import lastfm-1k`), in chunks of at most
                -- 65,536 events in file order, as the importer buffers them: users and items as int32, times as
                -- int64 Unix seconds (UTC), all little-endian, `count` of each. A row per event would cost an
                -- insert and a B-tree cell each (the 19M-event Last.fm 1K dump at well under the import target);
                -- every reader wants them all anyway, sorted by user and time (`GraphStore.timedPlays()`). The
                -- play counts in `listens` are derived from them, under the same import-log row (import_id).
                CREATE TABLE play_chunks (
                    id INTEGER PRIMARY KEY,
                    import_id INTEGER NOT NULL,
                    count INTEGER NOT NULL,
                    users BLOB NOT NULL,
                    items BLOB NOT NULL,
                    times BLOB NOT NULL
                );
                """),
    ]

    /// The schema version this build writes.
    static var latest: Int { all.last!.version }

    /// Applies every migration newer than the database's `user_version`.
    /// - Throws: `StoreError` when the file was written by a newer TasteGraph, or is another program's SQLite
    ///   database (tables but no TasteGraph schema version): TasteGraph never adds its tables to it.
    static func migrate(_ db: Database) throws {
        let current = try db.userVersion
        if current == 0, let tables = try db.text("SELECT group_concat(name, ', ') FROM sqlite_master WHERE type IN ('table', 'view')"), !tables.isEmpty {
            throw StoreError("\(db.path) is another program's SQLite database (it holds \(tables)), not a TasteGraph store; name a new store file")
        }
        guard current <= latest else {
            throw StoreError(
                "\(db.path) has schema version \(current), newer than this build's \(latest); upgrade tastegraph")
        }
        for migration in all where migration.version > current {
            try db.transaction {
                try db.execute(migration.sql)
                try db.execute("PRAGMA user_version = \(migration.version)")
            }
        }
    }
}
