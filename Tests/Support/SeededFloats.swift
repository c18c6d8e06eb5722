import TasteGraphSupport

/// Deterministic pseudo-random floats for tests, drawn from `SplitMix64`.
public struct SeededFloats {
    private var rng: SplitMix64

    public init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    /// Uniform in [-1, 1).
    public mutating func float() -> Float { Float(rng.nextUnit() * 2 - 1) }

    public mutating func array(_ count: Int) -> [Float] { (0..<count).map { _ in float() } }
}
