import Foundation
import TasteGraphStore

/// The importers, each driven through its public entry point into an in-memory store, with the input
/// written to a scratch file. After an import that succeeds, the store's readers (`stats`, `catalog`,
/// `listens`) run over what it accepted (no accepted content may make them trap either) and the next input
/// gets a fresh store. An import that fails must leave the store exactly as it was (the importers' promise),
/// so the same empty store serves the next input: its stats are checked against the empty store's first.
///
/// The bad-row budget follows the input's length: an even length imports with `maxErrors` 0 (the first bad
/// row fails the import), an odd one with 4 (bad rows are skipped and reported, then the import aborts),
/// so both paths are fuzzed without spending an input byte on the choice.
enum ImporterHarnesses {
    static func options(_ input: UnsafeRawBufferPointer) -> ImportOptions {
        ImportOptions(maxErrors: input.count % 2 == 0 ? 0 : 4)
    }

    /// Runs one import into the reused empty store (see above).
    static func importing(_ scratch: Scratch, _ body: (GraphStore) throws -> Void) {
        let (store, empty) = scratch.emptyStore()
        do {
            try body(store)
        } catch {
            let after = try? store.stats()
            precondition(after == empty, "a failed import (\(error)) changed the store: \(String(describing: after))")
            return
        }
        scratch.discardStore()
        _ = try? store.stats()
        _ = try? store.catalog()
        _ = try? store.listens()
    }

    /// Triplets as the whole input: `user<TAB>song<TAB>play_count` lines.
    static let triplets = Harness("triplets") { input, scratch in
        let path = scratch.write(input, to: "triplets.tsv")
        importing(scratch) { store in
            _ = try TasteProfileImporter(store: store).importTriplets(path: path, options: options(input))
        }
    }

    /// Fixed triplets naming songs the metadata seeds describe (and one they do not).
    static let metadataTriplets = "u1\tSOAAAAA12A8C13AAAA\t3\nu1\tSOBBBBB12A8C13BBBB\t1\nu2\tSOAAAAA12A8C13AAAA\t7\nu2\tSOZZZZZ12A8C13ZZZZ\t2\n"

    /// Song metadata as the whole input, imported beside `metadataTriplets`. The importer detects the
    /// format from the first line, so both metadata harnesses reach both parsers; their seeds differ.
    static func metadata(_ name: String, file: String) -> Harness {
        Harness(name) { input, scratch in
            let metadata = scratch.write(input, to: file)
            let triplets = scratch.path("metadata-triplets.tsv")
            if !FileManager.default.fileExists(atPath: triplets) { scratch.write(metadataTriplets, to: "metadata-triplets.tsv") }
            importing(scratch) { store in
                _ = try TasteProfileImporter(store: store).importTriplets(path: triplets, metadata: metadata, options: options(input))
            }
        }
    }

    static let songData = metadata("song-data", file: "song_data.csv")
    static let uniqueTracks = metadata("unique-tracks", file: "unique_tracks.txt")

    /// The hetrec2011 files a Last.fm directory may hold.
    static let lastfmFiles = ["artists.dat", "user_artists.dat", "tags.dat", "user_friends.dat", "user_taggedartists.dat"]

    /// A Last.fm directory as one input: each file starts after a marker line `=== NAME` (NAME one of
    /// `lastfmFiles`; a marker naming anything else starts a section that is dropped). Files without a
    /// section are absent, so the fuzzer also tries directories missing optional or required files.
    static let lastfm = Harness("lastfm") { input, scratch in
        for name in lastfmFiles { scratch.remove(name) }
        for (name, range) in sections(input) where lastfmFiles.contains(name) {
            scratch.write(UnsafeRawBufferPointer(rebasing: input[range]), to: name)
        }
        importing(scratch) { store in
            _ = try LastfmImporter(store: store).importDirectory(scratch.folder, options: options(input))
        }
    }

    /// Splits an input at lines starting with `=== `: (name after the marker, bytes up to the next marker).
    /// Bytes before the first marker belong to no file.
    static func sections(_ input: UnsafeRawBufferPointer) -> [(String, Range<Int>)] {
        let marker = Array("=== ".utf8)
        var result: [(String, Range<Int>)] = []
        var current: (name: String, start: Int)?
        var lineStart = 0
        while lineStart < input.count {
            var lineEnd = lineStart
            while lineEnd < input.count && input[lineEnd] != 0x0A { lineEnd += 1 }
            let next = min(lineEnd + 1, input.count)
            let line = UnsafeRawBufferPointer(rebasing: input[lineStart..<lineEnd])
            if line.count >= marker.count && line.prefix(marker.count).elementsEqual(marker) {
                if let current { result.append((current.name, current.start..<lineStart)) }
                var nameBytes = line.dropFirst(marker.count)
                if nameBytes.last == 0x0D { nameBytes = nameBytes.dropLast() }
                current = (String(decoding: nameBytes, as: UTF8.self), next)
            }
            lineStart = next
        }
        if let current { result.append((current.name, current.start..<input.count)) }
        return result
    }
}
