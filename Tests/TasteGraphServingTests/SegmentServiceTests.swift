import Foundation
import TasteGraphAnalytics
import TasteGraphServing
import TasteGraphStore
import TestSupport
import Testing

/// A user's segment from the latest stored segmentation, through the serving library.
@Suite struct SegmentServiceTests {
    static func segmentation(_ store: GraphStore, seed: UInt64, minSize: Int = 10) throws -> (id: Int, stored: StoredSegmentation) {
        var parameters = SegmentationParameters()
        parameters.seed = seed
        parameters.minSize = minSize
        let run = try ListenerSegments.detect(store: store, parameters: parameters)
        return (try store.saveSegmentation(run.stored), run.stored)
    }

    @Test func aStoreWithoutSegmentationSaysToRunSegments() throws {
        let dir = TemporaryDirectory()
        let store = try RelatedArtistsServiceTests.sample(dir)
        do {
            _ = try SegmentService(store: store)
            Issue.record("expected a ServingError")
        } catch let error as ServingError {
            #expect(error.field == "segmentation")
            #expect(error.detail.contains("run `tastegraph segments"), "\(error.detail)")
        }
    }

    /// Every member's answer is its stored segment (stable id, label, size, profile) and score; the latest
    /// segmentation answers unless an id is given; unknown users are refused.
    @Test func usersGetTheirStoredSegmentAndProfile() throws {
        let dir = TemporaryDirectory()
        let store = try RelatedArtistsServiceTests.sample(dir)
        let first = try Self.segmentation(store, seed: 1)
        let latest = try Self.segmentation(store, seed: 2, minSize: 50)
        let service = try SegmentService(store: store)
        #expect(service.segmentationID == latest.id)
        #expect(try SegmentService(store: store, segmentation: first.id).segmentationID == first.id)
        #expect(throws: ServingError.self) { try SegmentService(store: store, segmentation: 999) }

        let catalog = try store.catalog()
        var sizes: [String: Int] = [:]
        for member in latest.stored.members {
            let answer = try service.segment(forUser: catalog.userExternalIDs[member.user])
            #expect(answer.segmentation == latest.id)
            #expect(answer.score == member.score)
            let stored = member.segment.map { latest.stored.segments[$0] }
            #expect(answer.segment?.id == stored?.stableID)
            #expect(answer.segment?.label == stored?.label)
            if let segment = answer.segment { sizes[segment.id, default: 0] += 1 }
        }
        #expect(service.segments.count == latest.stored.segments.count)
        for segment in service.segments {
            #expect(sizes[segment.id] == segment.size, "segment \(segment.id)")
            #expect(!segment.topArtists.isEmpty && segment.medianPlays > 0)
            #expect(segment.topArtists.allSatisfy(catalog.artistNames.contains))
        }
        #expect(throws: ServingError(field: "user", detail: "no user with id 'nobody' in the store", kind: .notFound)) {
            try service.segment(forUser: "nobody")
        }
    }
}
