import Igraph
import Testing

@Suite struct IgraphTests {
    /// Two 5-cliques joined by one edge: modularity Leiden must split them exactly.
    @Test func leidenSeparatesTwoCliques() throws {
        var edges: [(Int, Int)] = []
        for group in 0..<2 {
            for i in 0..<5 { for j in (i + 1)..<5 { edges.append((group * 5 + i, group * 5 + j)) } }
        }
        edges.append((0, 5))
        let graph = try IgraphGraph(vertexCount: 10, edges: edges)
        let weights = [Double](repeating: 1, count: edges.count)
        let result = try graph.leiden(weights: weights, seed: 7)
        #expect(result.count == 2)
        #expect(Set(result.membership[0..<5]).count == 1)
        #expect(Set(result.membership[5..<10]).count == 1)
        #expect(result.membership[0] != result.membership[5])
        let q = try graph.modularity(membership: result.membership, weights: weights)
        #expect(q > 0.4)
        // Same seed, same answer.
        #expect(try graph.leiden(weights: weights, seed: 7) == result)
    }

    /// An edge naming a missing vertex is an igraph error: it must come back as a Swift error, and the
    /// process (this test) must live on and keep using igraph.
    @Test func invalidInputThrowsInsteadOfAborting() throws {
        #expect(throws: IgraphError.self) { try IgraphGraph(vertexCount: 3, edges: [(0, 1), (1, -7)]) }
        let graph = try IgraphGraph(vertexCount: 3, edges: [(0, 1), (1, 2)])
        do {
            _ = try graph.modularity(membership: [0, 0], weights: [1, 1])
            Issue.record("expected an igraph error for a short membership vector")
        } catch let error as IgraphError {
            #expect(error.reason.lowercased().contains("membership"), "reason: \(error.reason)")
        }
        let fine = try graph.leiden(weights: [1, 1], seed: 1)
        #expect(fine.membership.count == 3)
    }
}
