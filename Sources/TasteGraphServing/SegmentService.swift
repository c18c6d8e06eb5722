import Foundation
import TasteGraphAnalytics
import TasteGraphCore
import TasteGraphStore

/// One listener segment of a stored segmentation: its stable id, label and profile.
public struct ServedSegment: Codable, Sendable, Equatable {
    /// Stable across reruns that keep at least half of the members (see `ListenerSegments`).
    public let id: String
    /// Position in this segmentation (not stable across reruns).
    public let index: Int
    public let label: String
    public let size: Int
    public let topArtists: [String]
    public let topTags: [String]
    /// Median total plays of the members.
    public let medianPlays: Double
}

/// The segment a user belongs to in a stored segmentation.
public struct SegmentResponse: Codable, Sendable, Equatable {
    public let user: String
    /// The stored segmentation's id.
    public let segmentation: Int
    /// nil: the user is unassigned (their community was below the minimum size and tied to no other).
    public let segment: ServedSegment?
    /// Membership score: the share of the user's similarity-graph edge weight inside their segment.
    public let score: Double
}

/// Listener segments from one stored segmentation (the latest by default), loaded once into an immutable
/// snapshot: the segments with their profiles and every member's segment and score, by external user id.
public final class SegmentService: Sendable {
    public let segmentationID: Int
    public let algorithm: String
    public let createdAt: String
    /// Every segment, by index.
    public let segments: [ServedSegment]
    let members: [String: Membership]
    let knownUsers: Set<String>

    struct Membership: Sendable {
        let segment: Int?
        let score: Double
    }

    /// - Parameter segmentation: a stored segmentation's id, or nil for the latest.
    /// - Throws: `ServingError` (field `segmentation`) when the store has no segmentation, or none with that
    ///   id: the detail says to run `tastegraph segments`; the store's other errors.
    public init(store: GraphStore, segmentation id: Int? = nil) throws {
        let stored: StoredSegmentation
        do {
            stored = try store.segmentation(id: id)
        } catch is StoreError {
            throw ServingError(
                field: "segmentation",
                detail: id.map { "no segmentation \($0) in \(store.path); run `tastegraph segments --store \(store.path)` or give an existing id" }
                    ?? "no segmentation in \(store.path); run `tastegraph segments --store \(store.path)` first",
                kind: .notFound)
        }
        let catalog = try store.catalog()
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase  // `ListenerSegments` stores profiles in snake case
        segments = stored.segments.map { segment in
            // The profile as `segments` stored it; a list without one still has its label and size.
            let profile = try? decoder.decode(SegmentProfile.self, from: Data(segment.profileJSON.utf8))
            return ServedSegment(
                id: segment.stableID, index: segment.index, label: segment.label, size: segment.size,
                topArtists: profile?.topArtists ?? [], topTags: profile?.topTags ?? [], medianPlays: profile?.medianPlays ?? 0)
        }
        var members: [String: Membership] = [:]
        for member in stored.members where catalog.userExternalIDs.indices.contains(member.user) {
            members[catalog.userExternalIDs[member.user]] = Membership(segment: member.segment, score: member.score)
        }
        self.members = members
        knownUsers = Set(catalog.userExternalIDs)
        segmentationID = stored.id
        algorithm = stored.algorithm
        createdAt = stored.createdAt
    }

    /// The segment of one user, by external id.
    /// - Throws: `ServingError` (field `user`) for a user the store does not have, or one the segmentation
    ///   does not cover (no listens when it ran: rerun `tastegraph segments`).
    public func segment(forUser user: String) throws -> SegmentResponse {
        guard let membership = members[user] else {
            if knownUsers.contains(user) {
                throw ServingError(
                    field: "user",
                    detail: "user '\(user)' is not in segmentation \(segmentationID) (no listens when it ran); run `tastegraph segments` again",
                    kind: .notFound)
            }
            throw ServingError(field: "user", detail: "no user with id '\(user)' in the store", kind: .notFound)
        }
        let segment = membership.segment.flatMap { index in segments.first { $0.index == index } }
        return SegmentResponse(user: user, segmentation: segmentationID, segment: segment, score: membership.score)
    }
}
