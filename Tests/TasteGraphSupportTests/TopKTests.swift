import Testing

@testable import TasteGraphSupport

/// The heap selection gives exactly the prefix of a full sort (score descending, lower index first on ties),
/// whatever k, ties, NaN and the filter.
@Suite struct TopKTests {
    static func reference(_ k: Int, _ scores: [Float], _ keep: (Int) -> Bool) -> [Int] {
        let order = scores.indices.filter { !scores[$0].isNaN && keep($0) }.sorted {
            scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1)
        }
        return Array(order.prefix(k))
    }

    @Test(arguments: [0, 1, 2, 7, 50, 199, 200, 500])
    func heapSelectionIsTheFullSortsPrefix(k: Int) {
        var rng = SplitMix64(seed: UInt64(k) + 3)
        for round in 0..<20 {
            // Coarse values force many ties; some NaN and infinities.
            let scores: [Float] = (0..<200).map { _ in
                switch rng.nextInt(below: 40) {
                case 0: return .nan
                case 1: return .infinity
                case 2: return -.infinity
                default: return Float(rng.nextInt(below: 12)) / 4
                }
            }
            let keep = { (i: Int) in (i + round) % 3 != 0 }
            #expect(TopK.select(k, of: scores, where: keep) == Self.reference(k, scores, keep), "k \(k) round \(round)")
            #expect(TopK.select(k, of: scores) == Self.reference(k, scores, { _ in true }), "k \(k) round \(round)")
        }
    }

    @Test func emptyAndAllFilteredGiveNothing() {
        #expect(TopK.select(5, of: [Float]()).isEmpty)
        #expect(TopK.select(5, of: [1, 2, 3], where: { _ in false }).isEmpty)
        #expect(TopK.select(2, of: [1, 3, 3, 2]) == [1, 2])
    }
}
