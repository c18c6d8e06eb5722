import Synchronization

/// A value computed on first use and then kept, safe to share between threads: a model's derived tables
/// that only some callers need (the norm-ordered item rows of batch scoring). Copies of the owner share it.
public final class Lazy<Value: Sendable>: Sendable {
    private let make: @Sendable () -> Value
    private let cached = Mutex<Value?>(nil)

    public init(_ make: @escaping @Sendable () -> Value) { self.make = make }

    /// The value; the first caller computes it while later ones wait.
    public var value: Value {
        cached.withLock { held in
            if let held { return held }
            let built = make()
            held = built
            return built
        }
    }
}
