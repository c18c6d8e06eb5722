import Foundation
import TasteGraphCore
import TasteGraphStore

/// What a long-running front end serves from: the store's path, the model file, and the settings every
/// service is loaded with.
public struct ServingConfiguration: Sendable {
    public var storePath: String
    public var modelPath: String
    public var policy = ColdStartPolicy()
    /// Rebuild what `explain` needs at load (the GCN's propagation over the store's listens).
    public var explanations = true
    public var related = RelatedArtistsSettings()
    /// Text features for `similar?by=text` (default: the GCN's recorded ones, else hashing-256).
    public var textFeatures: String?
    /// Where MiniLM's files are, for MiniLM features not in the store's cache.
    public var modelDirectory: String?
    /// Experiments routing requests to arms (each arm's model is loaded beside the main one).
    public var experiments = ExperimentSet()
    /// The policy answering users no experiment routes (nil: the model alone).
    public var listenerPolicy: PolicyDefinition?
    /// Record every list served in the store's exposure log (`ExposureJournal`, then `exposure_chunks`).
    public var logExposures = true

    public init(storePath: String, modelPath: String) {
        self.storePath = storePath
        self.modelPath = modelPath
    }
}

/// One immutable view of the store and one model file: every service a request can ask, loaded together.
///
/// Requests read a snapshot and never block on a reload: `LiveServing` builds the next snapshot beside
/// this one and swaps the reference; requests that hold this one finish on it.
public final class ServingSnapshot: Sendable {
    public let configuration: ServingConfiguration
    public let recommendations: RecommendationService
    public let related: RelatedArtistsService
    public let similar: SimilarItemsService
    /// Model file → its service, for every model an experiment arm names besides `configuration.modelPath`.
    public let armModels: [String: RecommendationService]
    /// Result of loading the latest segmentation: the service, or why there is none (no segmentation yet).
    public let segments: Result<SegmentService, ServingError>
    /// The session models (`/v1/sessions/next`, `/v1/playlists/continue`), or why there are none (a store
    /// without timestamped plays).
    public let sessions: Result<SessionService, ServingError>
    /// When the snapshot was loaded.
    public let loadedAt: Date
    /// Unique per load: answers computed from this snapshot may be cached under it.
    public let id = UUID()

    /// Loads every service from the store at `configuration.storePath` and the model at `modelPath`.
    /// - Throws: `CheckpointError` for a missing, damaged or mismatched model file; the store's errors.
    public init(configuration: ServingConfiguration) throws {
        let store = try GraphStore.openExisting(path: configuration.storePath)
        self.configuration = configuration
        recommendations = try RecommendationService(
            store: store, modelPath: configuration.modelPath, policy: configuration.policy, explanations: configuration.explanations, live: true)
        var armModels: [String: RecommendationService] = [:]
        for path in configuration.experiments.modelPaths + [configuration.listenerPolicy?.model].compactMap({ $0 })
        where path != configuration.modelPath && armModels[path] == nil {
            armModels[path] = try RecommendationService(
                store: store, modelPath: path, policy: configuration.policy, explanations: configuration.explanations, live: true)
        }
        self.armModels = armModels
        related = try RelatedArtistsService(store: store, settings: configuration.related)
        similar = try SimilarItemsService(
            store: store, modelPath: configuration.modelPath, textFeatures: configuration.textFeatures, modelDirectory: configuration.modelDirectory)
        do {
            segments = .success(try SegmentService(store: store))
        } catch let error as ServingError {
            segments = .failure(error)
        }
        do {
            sessions = .success(try SessionService(store: store))
        } catch let error as ServingError {
            sessions = .failure(error)
        }
        loadedAt = Date()
    }

    /// The model file's kind and version.
    public var model: ServedModel { recommendations.model }

    /// The service answering from `modelPath` (nil or the main model: `recommendations`).
    public func service(forModel modelPath: String?) -> RecommendationService {
        modelPath.flatMap { armModels[$0] } ?? recommendations
    }

    /// The user's segment.
    /// - Throws: `ServingError` (not found) for an unknown user or a store without segmentation.
    public func segment(forUser user: String) throws -> SegmentResponse {
        try segments.get().segment(forUser: user)
    }
}
