import Foundation
import TasteGraphCore
import TasteGraphRecommend

extension RecommendationService {
    /// How many personal candidates a policy re-ranks for a list of `count`.
    static func policyCandidates(_ count: Int) -> Int { max(count * 5, 100) }

    /// Answers `request` under `policy` (see `PolicyDefinition` for the rules): the rule the listener's
    /// history falls under picks the cold-start mix, a blend with popular songs, a novelty re-ranking, or
    /// the personal model. The response names the rule in `route`.
    /// - Throws: what `recommend(_:live:)` throws.
    func recommend(_ request: RecommendationRequest, live: LiveUser?, policy: PolicyDefinition) throws -> RecommendationResponse {
        let history = live?.history ?? Dictionary(history(of: request.user).map { ($0.item, $0.plays) }, uniquingKeysWith: +)
        let route = policy.route(history: history, catalog: catalog)
        var response: RecommendationResponse
        switch route.route {
        case .coldStart:
            response = try recommend(request, live: live, forceColdStart: true)
        case .personal:
            response = try recommend(request, live: live)
        case .lowEngagement, .lowDiscovery:
            var wide = request
            wide.count = min(Self.policyCandidates(request.count), max(catalog.itemCount, 1))
            let personal = try recommend(wide, live: live)
            if personal.coldStart {  // the model cannot rank this listener: the service's own cold start
                response = RecommendationResponse(user: request.user, coldStart: true, model: model, recommendations: Array(personal.recommendations.prefix(request.count)))
            } else {
                response = try rerank(personal, request: request, live: live, route: route.route, policy: policy, candidates: wide.count)
            }
        }
        response.route = route
        return response
    }

    /// The blend or the novelty re-ranking of `personal` (its candidates, best first).
    func rerank(
        _ personal: RecommendationResponse, request: RecommendationRequest, live: LiveUser?, route: ServedRoute.Route, policy: PolicyDefinition, candidates: Int
    ) throws -> RecommendationResponse {
        let ids = try itemLookup.withLock { cached throws -> IDMap<ItemIndex> in
            if let cached { return cached }
            let built = try catalog.itemIDs()
            cached = built
            return built
        }
        var servedByItem: [ItemIndex: ServedItem] = [:]
        var order: [ItemIndex] = []
        for item in personal.recommendations {
            guard let index = ids.index(of: item.item) else { continue }
            servedByItem[index] = item
            order.append(index)
        }
        let ranked: [(item: ItemIndex, score: Double)]
        if route == .lowEngagement, let rule = policy.lowEngagement {
            // The most popular songs this request may show, under the same exclusions and business rules.
            let (_, excluded) = exclusions(for: request, live: live)
            let popular = RecommendationSelection.top(candidates, of: listenerCounts, heard: excluded, filter: try filter(for: request), catalog: catalog, predictLog1p: nil)
            ranked = PolicyRanking.blend(personal: order, popular: popular.map(\.item), weight: rule.popularWeight, k: request.count)
        } else if let rule = policy.lowDiscovery {
            ranked = PolicyRanking.novel(
                candidates: order, popularity: { Double(self.listenerCounts[$0.rawValue]) }, artist: { self.catalog.artist(of: $0) },
                weight: rule.noveltyWeight, maxPerArtist: rule.maxPerArtist ?? 0, k: request.count)
        } else {
            ranked = order.prefix(request.count).map { ($0, 0) }
        }
        let items = ranked.map { entry -> ServedItem in
            let base = servedByItem[entry.item]
                ?? served(Recommendation(item: entry.item, score: 0, predictedPlays: nil), because: request.explain ? [] : nil)
            return ServedItem(item: base.item, title: base.title, artist: base.artist, score: entry.score, predictedPlays: base.predictedPlays, because: base.because)
        }
        return RecommendationResponse(user: request.user, coldStart: false, model: model, recommendations: items)
    }
}
