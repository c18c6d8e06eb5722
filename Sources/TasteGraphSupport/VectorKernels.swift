/// Small dense kernels shared by every model (the GCN's decoder and loss, ALS's conjugate gradient).
public enum VectorKernels {
    /// ⟨a, b⟩ over `h` entries. Float reductions do not auto-vectorize, so the Float path sums in SIMD16
    /// accumulators when h is a multiple of 16.
    @inlinable @inline(__always)
    public static func dot<T: BinaryFloatingPoint>(_ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ h: Int) -> T {
        if T.self == Float.self && h % 16 == 0 {
            let x = UnsafeRawPointer(a)
            let y = UnsafeRawPointer(b)
            var acc = SIMD16<Float>.zero
            var offset = 0
            while offset < h * 4 {
                acc += x.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self) * y.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self)
                offset += 64
            }
            return T(acc.sum())
        }
        var sum: T = 0
        for k in 0..<h { sum += a[k] * b[k] }
        return sum
    }
}
