/// Agreement between two partitions of the same elements (labels are arbitrary integers).
public enum ClusteringAgreement {
    /// Normalized mutual information, arithmetic-mean normalization (scikit-learn's default):
    ///
    /// ```
    /// NMI = I(A; B) / ((H(A) + H(B)) / 2)
    /// ```
    /// 1 for identical partitions up to relabelling; 1 when both are a single cluster.
    public static func normalizedMutualInformation(_ a: [Int], _ b: [Int]) -> Double {
        precondition(a.count == b.count && !a.isEmpty)
        let n = Double(a.count)
        let (joint, countA, countB) = contingency(a, b)
        var mutual = 0.0
        for (pair, count) in joint {
            let p = Double(count) / n
            mutual += p * log(p * n * n / (Double(countA[pair.a]!) * Double(countB[pair.b]!)))
        }
        let hA = entropy(countA.values, n)
        let hB = entropy(countB.values, n)
        if hA == 0 && hB == 0 { return 1 }
        return max(0, mutual / ((hA + hB) / 2))
    }

    /// Adjusted Rand index (Hubert & Arabie 1985): 1 for identical partitions, about 0 for random ones.
    public static func adjustedRandIndex(_ a: [Int], _ b: [Int]) -> Double {
        precondition(a.count == b.count && !a.isEmpty)
        func pairs(_ x: Int) -> Double { Double(x) * Double(x - 1) / 2 }
        let (joint, countA, countB) = contingency(a, b)
        let index = joint.values.reduce(0.0) { $0 + pairs($1) }
        let sumA = countA.values.reduce(0.0) { $0 + pairs($1) }
        let sumB = countB.values.reduce(0.0) { $0 + pairs($1) }
        let expected = sumA * sumB / pairs(a.count)
        let maximum = (sumA + sumB) / 2
        if maximum == expected { return 1 }
        return (index - expected) / (maximum - expected)
    }

    private struct Pair: Hashable {
        let a: Int
        let b: Int
    }

    private static func contingency(_ a: [Int], _ b: [Int]) -> ([Pair: Int], [Int: Int], [Int: Int]) {
        var joint: [Pair: Int] = [:]
        var countA: [Int: Int] = [:]
        var countB: [Int: Int] = [:]
        for i in a.indices {
            joint[Pair(a: a[i], b: b[i]), default: 0] += 1
            countA[a[i], default: 0] += 1
            countB[b[i], default: 0] += 1
        }
        return (joint, countA, countB)
    }

    private static func entropy<C: Collection>(_ counts: C, _ n: Double) -> Double where C.Element == Int {
        counts.reduce(0.0) { total, count in
            let p = Double(count) / n
            return total - p * log(p)
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
