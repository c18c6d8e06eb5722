/// Deterministic pseudo-random floats for tests (SplitMix64 under the hood, duplicated here so the test
/// support target depends on nothing).
public struct SeededFloats {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    public mutating func float() -> Float { Float(Double(next() >> 11) * 0x1.0p-52 - 1) }

    public mutating func array(_ count: Int) -> [Float] { (0..<count).map { _ in float() } }
}
