import Foundation
import TasteGraphCore
import TasteGraphGraph
import TasteGraphStore

/// A segmentation computed from a store, with profiles, ready to save.
public struct SegmentationRun: Sendable {
    public let segmentation: Segmentation
    public let profiles: [SegmentProfile]
    public let stored: StoredSegmentation
    /// Reading the store through community detection (profiles and ids not included).
    public let seconds: Double
    /// Where `seconds` went: reading the listens and building the bipartite graph, the user–user
    /// similarity graph, and community detection (Leiden or Louvain, with the small-segment merge).
    public let phases: Phases

    public struct Phases: Sendable, Equatable {
        public let loadSeconds: Double
        public let similaritySeconds: Double
        public let communitySeconds: Double
    }
}

/// Listener segments end to end: store → similarity graph → communities → profiles → stored result.
public enum ListenerSegments {
    /// Detects segments on the store's active listens (or on `listens` when given, e.g. a train split);
    /// `threads` workers build the similarity graph (the result is the same for every count).
    ///
    /// Stable ids: a segment that shares at least half its members (Jaccard ≥ 0.5) with a segment of the
    /// store's previous segmentation keeps that segment's id, so audiences keep their name across re-runs;
    /// other segments get a new id derived from the data fingerprint, parameters and members.
    public static func detect(
        store: GraphStore, parameters: SegmentationParameters, listens given: ListenTable? = nil, threads: Int = 1
    ) throws -> SegmentationRun {
        let started = Date()
        let catalog = try store.catalog()
        let listens = try given ?? store.listens()
        let graph = BipartiteGraph(userCount: catalog.userCount, itemCount: catalog.itemCount, listens: listens, weighting: .log1p)
        let loaded = Date()
        let similarity = UserSimilarityGraph(graph: graph, neighbors: parameters.neighbors, listenersPerItem: parameters.listenersPerItem ?? 1_000, threads: threads)
        let similar = Date()
        let segmentation = try similarity.segment(parameters)
        let finished = Date()
        let seconds = finished.timeIntervalSince(started)
        let phases = SegmentationRun.Phases(
            loadSeconds: loaded.timeIntervalSince(started), similaritySeconds: similar.timeIntervalSince(loaded),
            communitySeconds: finished.timeIntervalSince(similar))
        let profiles = SegmentProfile.profiles(of: segmentation, listens: listens, catalog: catalog)
        let fingerprint = try store.dataFingerprint()
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let parametersJSON = String(decoding: try encoder.encode(parameters), as: UTF8.self)

        var members = [[Int]](repeating: [], count: segmentation.segmentCount)
        var hasListens = [Bool](repeating: false, count: catalog.userCount)
        for user in listens.users { hasListens[Int(user)] = true }
        for (user, segment) in segmentation.membership.enumerated() { if let segment { members[segment].append(user) } }
        let previous = try? store.segmentation()
        let ids = stableIDs(members: members, previous: previous, fingerprint: fingerprint, parametersJSON: parametersJSON)
        let segments = profiles.map { profile in
            StoredSegmentation.Segment(
                index: profile.index, stableID: ids[profile.index], label: profile.label, size: profile.size,
                profileJSON: String(decoding: (try? encoder.encode(profile)) ?? Data("{}".utf8), as: UTF8.self))
        }
        // Every user with listens gets a row: assigned, or unassigned (never silently dropped).
        let stored = StoredSegmentation(
            algorithm: parameters.method.rawValue, parametersJSON: parametersJSON, seed: parameters.seed,
            dataFingerprint: fingerprint, modularity: segmentation.modularity,
            createdAt: ISO8601DateFormatter().string(from: Date()), segments: segments,
            members: (0..<catalog.userCount).filter { hasListens[$0] }.map {
                .init(user: $0, segment: segmentation.membership[$0], score: segmentation.scores[$0])
            })
        return SegmentationRun(segmentation: segmentation, profiles: profiles, stored: stored, seconds: seconds, phases: phases)
    }

    static func stableIDs(members: [[Int]], previous: StoredSegmentation?, fingerprint: String, parametersJSON: String) -> [String] {
        var previousMembers: [String: Set<Int>] = [:]
        if let previous {
            let idOf = Dictionary(uniqueKeysWithValues: previous.segments.map { ($0.index, $0.stableID) })
            for m in previous.members { if let s = m.segment, let id = idOf[s] { previousMembers[id, default: []].insert(m.user) } }
        }
        var taken = Set<String>()
        return members.map { list in
            let set = Set(list)
            let best = previousMembers.filter { !taken.contains($0.key) }.map { (id, old) -> (String, Double) in
                let inter = Double(old.intersection(set).count)
                return (id, inter / Double(old.union(set).count))
            }.max { ($0.1, $1.0) < ($1.1, $0.0) }
            if let best, best.1 >= 0.5 {
                taken.insert(best.0)
                return best.0
            }
            let id = "seg-" + SHA256.hex(of: fingerprint + parametersJSON + list.prefix(50).map(String.init).joined(separator: ",")).prefix(10)
            taken.insert(id)
            return id
        }
    }
}
