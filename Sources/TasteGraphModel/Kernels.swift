import TasteGraphGraph

/// Sparse × dense products, the one kernel the GCN needs beyond GEMM.
public enum Kernels {
    /// Y ← A·X (or Y += A·X when `accumulate`).
    ///
    /// Shapes: A (R, C) sparse · X (C, H) → Y (R, H).
    /// - Complexity: O(nnz(A) · H).
    @inlinable
    public static func spmm<T: BinaryFloatingPoint>(
        _ a: SparseMatrix<T>, _ x: UnsafePointer<T>, columns h: Int, into y: UnsafeMutablePointer<T>, accumulate: Bool = false
    ) {
        if T.self == Float.self && h > 0 && h % 16 == 0 {
            spmmSIMD(
                a as! SparseMatrix<Float>, UnsafeRawPointer(x).assumingMemoryBound(to: Float.self), columns: h,
                into: UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self), accumulate: accumulate)
            return
        }
        a.offsets.withUnsafeBufferPointer { offsets in
            a.indices.withUnsafeBufferPointer { indices in
                a.values.withUnsafeBufferPointer { values in
                    for row in 0..<a.rows {
                        let out = y + row * h
                        if !accumulate { out.initialize(repeating: 0, count: h) }
                        for e in offsets[row]..<offsets[row + 1] {
                            let v = values[e]
                            let source = x + Int(indices[e]) * h
                            for j in 0..<h { out[j] += v * source[j] }
                        }
                    }
                }
            }
        }
    }

    /// The Float fast path of `spmm` for H a multiple of 16: each output row is held in SIMD16 registers
    /// while the row's nonzeros stream by (one load and one multiply-add per 16 columns).
    @usableFromInline
    static func spmmSIMD(
        _ a: SparseMatrix<Float>, _ x: UnsafePointer<Float>, columns h: Int, into y: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        let chunks = h / 16
        a.offsets.withUnsafeBufferPointer { offsets in
            a.indices.withUnsafeBufferPointer { indices in
                a.values.withUnsafeBufferPointer { values in
                    for row in 0..<a.rows {
                        let out = UnsafeMutableRawPointer(y + row * h)
                        var chunk = 0
                        while chunk + 4 <= chunks {  // four accumulators: 64 columns per pass
                            let base = chunk * 64
                            var a0 = accumulate ? out.loadUnaligned(fromByteOffset: base, as: SIMD16<Float>.self) : .zero
                            var a1 = accumulate ? out.loadUnaligned(fromByteOffset: base + 64, as: SIMD16<Float>.self) : .zero
                            var a2 = accumulate ? out.loadUnaligned(fromByteOffset: base + 128, as: SIMD16<Float>.self) : .zero
                            var a3 = accumulate ? out.loadUnaligned(fromByteOffset: base + 192, as: SIMD16<Float>.self) : .zero
                            for e in offsets[row]..<offsets[row + 1] {
                                let v = values[e]
                                let source = UnsafeRawPointer(x + Int(indices[e]) * h) + base
                                a0 += v * source.loadUnaligned(as: SIMD16<Float>.self)
                                a1 += v * source.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
                                a2 += v * source.loadUnaligned(fromByteOffset: 128, as: SIMD16<Float>.self)
                                a3 += v * source.loadUnaligned(fromByteOffset: 192, as: SIMD16<Float>.self)
                            }
                            out.storeBytes(of: a0, toByteOffset: base, as: SIMD16<Float>.self)
                            out.storeBytes(of: a1, toByteOffset: base + 64, as: SIMD16<Float>.self)
                            out.storeBytes(of: a2, toByteOffset: base + 128, as: SIMD16<Float>.self)
                            out.storeBytes(of: a3, toByteOffset: base + 192, as: SIMD16<Float>.self)
                            chunk += 4
                        }
                        while chunk < chunks {
                            let base = chunk * 64
                            var acc = accumulate ? out.loadUnaligned(fromByteOffset: base, as: SIMD16<Float>.self) : .zero
                            for e in offsets[row]..<offsets[row + 1] {
                                acc += values[e] * (UnsafeRawPointer(x + Int(indices[e]) * h) + base).loadUnaligned(as: SIMD16<Float>.self)
                            }
                            out.storeBytes(of: acc, toByteOffset: base, as: SIMD16<Float>.self)
                            chunk += 1
                        }
                    }
                }
            }
        }
    }

    /// Reference twin of `spmm`: the dense product, for tests.
    public static func spmmReference<T: BinaryFloatingPoint>(_ a: SparseMatrix<T>, _ x: [T], columns h: Int) -> [T] {
        let dense = a.dense()
        var y = [T](repeating: 0, count: a.rows * h)
        for r in 0..<a.rows { for c in 0..<a.columns where dense[r * a.columns + c] != 0 { for j in 0..<h { y[r * h + j] += dense[r * a.columns + c] * x[c * h + j] } } }
        return y
    }
}
