import Foundation
import TasteGraphCore
import TasteGraphGraph
import TestSupport
import Testing

/// The CSR in both directions: user → items and item → users hold exactly the listens, weighted as asked.
@Suite struct BipartiteGraphTests {
    /// A hand-checked case: 2 users, 3 items (item 1 unplayed), listens given out of user order.
    @Test func handBuiltCSRInBothDirections() {
        let listens = ListenTable(users: [1, 0, 1], items: [2, 0, 0], plays: [4, 2, 6])
        let graph = BipartiteGraph(userCount: 2, itemCount: 3, listens: listens, weighting: .raw)
        #expect(graph.edgeCount == 3)
        #expect(graph.userItems.rowCount == 2 && graph.itemUsers.rowCount == 3)
        // user 0: item 0 (2); user 1: items 2 (4), 0 (6), in input order.
        #expect(graph.userItems.offsets == [0, 1, 3])
        #expect(graph.userItems.targets == [0, 2, 0])
        #expect(graph.userItems.weights == [2, 4, 6])
        // item 0: users 0 (2), 1 (6); item 1: none; item 2: user 1 (4).
        #expect(graph.itemUsers.offsets == [0, 2, 2, 3])
        #expect(graph.itemUsers.targets == [0, 1, 1])
        #expect(graph.itemUsers.weights == [2, 6, 4])
        #expect(graph.itemUsers.degree(1) == 0 && graph.itemUsers.neighbors(1).isEmpty)
        #expect(Array(graph.userItems.neighbors(1)) == [2, 0])
    }

    /// Raw weights are the play counts; log1p weights are log(1 + plays), checked against Foundation's log1p.
    @Test func weightingsTurnPlaysIntoWeights() {
        let plays: [Float] = [0, 1, 3, 1000, 1_000_000_000]
        let listens = ListenTable(users: [0, 0, 0, 0, 0], items: [0, 1, 2, 3, 4], plays: plays)
        let raw = BipartiteGraph(userCount: 1, itemCount: 5, listens: listens, weighting: .raw)
        #expect(raw.userItems.weights == plays)
        let logged = BipartiteGraph(userCount: 1, itemCount: 5, listens: listens, weighting: .log1p)
        let expected = plays.map { log1p(Double($0)) }  // 0, 0.6931…, 1.3862…, 6.9087…, 20.7232…
        for (weight, want) in zip(logged.userItems.weights, expected) {
            #expect(abs(Double(weight) - want) <= 1e-6 * max(1, want), "log1p weight \(weight), expected \(want)")
        }
        #expect(logged.itemUsers.weights == logged.userItems.weights)  // one user: same order both ways
    }

    /// On the planted taste groups and on random listens (rows shuffled), for both weightings: each user's row
    /// is exactly that user's listens in input order, each item's row exactly that item's listeners, no row
    /// repeats a target, and the two directions hold the same weighted edges.
    @Test(arguments: EdgeWeighting.allCases)
    func csrAgreesWithTheListens(weighting: EdgeWeighting) {
        let planted = PlantedGraph.tasteGroups()
        let cases: [(users: Int, items: Int, listens: ListenTable)] = [
            (planted.userCount, planted.itemCount, planted.train),
            // Users 0 and 7 have no listens; items outnumber what anyone plays, so some items are unplayed.
            (10, 25, randomListens(listensPerUser: [0, 1, 2, 5, 9, 12, 3, 0, 20, 7], itemCount: 25, seed: 41)),
        ]
        for (userCount, itemCount, listens) in cases {
            let graph = BipartiteGraph(userCount: userCount, itemCount: itemCount, listens: listens, weighting: weighting)
            #expect(graph.edgeCount == listens.count)
            #expect(graph.itemUsers.edgeCount == listens.count)
            #expect(graph.userItems.offsets.first == 0 && zip(graph.userItems.offsets, graph.userItems.offsets.dropFirst()).allSatisfy { $0 <= $1 })
            #expect(graph.itemUsers.offsets.first == 0 && zip(graph.itemUsers.offsets, graph.itemUsers.offsets.dropFirst()).allSatisfy { $0 <= $1 })
            for user in 0..<userCount {
                let rows = (0..<listens.count).filter { Int(listens.users[$0]) == user }
                #expect(Array(graph.userItems.neighbors(user)) == rows.map { listens.items[$0] }, "user \(user) items")
                let weights = graph.userItems.weights[graph.userItems.offsets[user]..<graph.userItems.offsets[user + 1]]
                #expect(Array(weights) == rows.map { weighting.weight(listens.plays[$0]) }, "user \(user) weights")
                #expect(Set(graph.userItems.neighbors(user)).count == graph.userItems.degree(user), "user \(user) repeats an item")
            }
            for item in 0..<itemCount {
                let rows = (0..<listens.count).filter { Int(listens.items[$0]) == item }
                #expect(Array(graph.itemUsers.neighbors(item)) == rows.map { listens.users[$0] }, "item \(item) users")
                let weights = graph.itemUsers.weights[graph.itemUsers.offsets[item]..<graph.itemUsers.offsets[item + 1]]
                #expect(Array(weights) == rows.map { weighting.weight(listens.plays[$0]) }, "item \(item) weights")
                #expect(Set(graph.itemUsers.neighbors(item)).count == graph.itemUsers.degree(item), "item \(item) repeats a user")
            }
            // The two directions are transposes of each other: the same (user, item, weight) edges.
            func edges(_ csr: CSR, rowsAreUsers: Bool) -> [Triple] {
                (0..<csr.rowCount).flatMap { row in
                    (csr.offsets[row]..<csr.offsets[row + 1]).map { e in
                        rowsAreUsers ? Triple(user: Int32(row), item: csr.targets[e], plays: csr.weights[e])
                            : Triple(user: csr.targets[e], item: Int32(row), plays: csr.weights[e])
                    }
                }.sorted()
            }
            #expect(edges(graph.userItems, rowsAreUsers: true) == edges(graph.itemUsers, rowsAreUsers: false))
        }
    }

    /// The wrapping initializer keeps the arrays as given, and degree / neighbors read them.
    @Test func csrFromArrays() {
        let csr = CSR(offsets: [0, 0, 2, 3], targets: [4, 1, 0], weights: [0.5, 2, 1])
        #expect(csr.rowCount == 3 && csr.edgeCount == 3)
        #expect((0..<3).map(csr.degree) == [0, 2, 1])
        #expect(Array(csr.neighbors(1)) == [4, 1] && Array(csr.neighbors(2)) == [0])
        #expect(csr == CSR(rowCount: 3, rows: [1, 2, 1], targets: [4, 0, 1], weights: [0.5, 1, 2]))
    }
}
