import TasteGraphSupport

/// The GCN's two heads over the final embeddings Z, located in the parameters by the layout: the one place
/// that computes the ranking score and the play-count prediction (training, evaluation and serving).
///
/// ```
/// r_ui = ⟨z_u, z_i⟩ + c_i                     (ranking score; c = rankBias)
/// ŷ_ui = s·⟨z_u, z_i⟩ + b_u + b_i + μ         (log1p play count; s = dotScale, b = userBias / itemBias, μ = globalMean)
/// ```
///
/// Shapes: z (N, H), users first then items; parameters (layout.count); c, b_i (I); b_u (U); s, μ (1).
public struct GCNDecoder: Sendable, Equatable {
    /// Why a layout cannot be decoded.
    public enum LayoutError: Error, Sendable, Equatable {
        /// An entry the decoder reads is absent.
        case missingParameters
        /// An entry's size does not match the users and items.
        case sizeMismatch
    }

    public let userCount: Int
    public let itemCount: Int
    public let hidden: Int
    /// Offsets into the flat parameters (for the loss's gradient accumulation).
    public let rankBias: Int
    public let userBias: Int
    public let itemBias: Int
    public let globalMean: Int
    public let dotScale: Int

    /// - Throws: `LayoutError` when an entry is missing or sized for other users or items.
    public init(layout: ParameterLayout, userCount: Int, itemCount: Int, hidden: Int) throws(LayoutError) {
        guard let rank = layout["rankBias"], let ub = layout["userBias"], let ib = layout["itemBias"],
              let mu = layout["globalMean"], let s = layout["dotScale"]
        else { throw .missingParameters }
        guard rank.count == itemCount, ib.count == itemCount, ub.count == userCount, mu.count == 1, s.count == 1
        else { throw .sizeMismatch }
        self.userCount = userCount
        self.itemCount = itemCount
        self.hidden = hidden
        rankBias = rank.offset
        userBias = ub.offset
        itemBias = ib.offset
        globalMean = mu.offset
        dotScale = s.offset
    }

    /// r_ui = dot + c_i, from dot = ⟨z_u, z_i⟩.
    @inline(__always)
    public func rank<T: BinaryFloatingPoint>(dot: T, item: Int, _ parameters: UnsafePointer<T>) -> T {
        dot + parameters[rankBias + item]
    }

    /// ŷ_ui = s·dot + b_u + b_i + μ, from dot = ⟨z_u, z_i⟩.
    @inline(__always)
    public func playCount<T: BinaryFloatingPoint>(dot: T, user: Int, item: Int, _ parameters: UnsafePointer<T>) -> T {
        parameters[dotScale] * dot + parameters[userBias + user] + parameters[itemBias + item] + parameters[globalMean]
    }

    /// ŷ_ui for one pair, reading z_u and z_i from Z. Shapes: z (N, H).
    @inline(__always)
    public func predict<T: BinaryFloatingPoint>(_ z: UnsafePointer<T>, _ parameters: UnsafePointer<T>, user: Int, item: Int) -> T {
        let zu = z + user * hidden
        let zi = z + (userCount + item) * hidden
        var dot: T = 0
        for j in 0..<hidden { dot += zu[j] * zi[j] }
        return playCount(dot: dot, user: user, item: item, parameters)
    }

    /// ŷ_ui for one pair from arrays. Shapes: z (N, H); parameters (layout.count).
    public func predict(_ z: [Float], _ parameters: [Float], user: Int, item: Int) -> Float {
        z.withUnsafeBufferPointer { zb in
            parameters.withUnsafeBufferPointer { p in predict(zb.baseAddress!, p.baseAddress!, user: user, item: item) }
        }
    }

    /// Ranking scores r_ui for `users` × all items through `BatchedScoring` (one sgemm).
    ///
    /// Shapes: z (N, H) · parameters (layout.count) → out (users.count, I).
    public func scores(users: [Int], embeddings z: [Float], parameters: [Float], into out: UnsafeMutableBufferPointer<Float>) {
        precondition(z.count == (userCount + itemCount) * hidden, "Z holds \(z.count) floats, needs (N, H) = \((userCount + itemCount) * hidden)")
        z.withUnsafeBufferPointer { zb in
            parameters.withUnsafeBufferPointer { p in
                BatchedScoring.scores(
                    users: users, userRows: UnsafeBufferPointer(rebasing: zb[0..<(userCount * hidden)]),
                    itemRows: UnsafeBufferPointer(rebasing: zb[(userCount * hidden)...]), width: hidden,
                    itemBias: UnsafeBufferPointer(rebasing: p[rankBias..<(rankBias + itemCount)]), into: out)
            }
        }
    }
}
