import BLAS

/// The one place that sets OpenBLAS's thread count, for every front end (the CLI, the server), from
/// `TASTEGRAPH_BLAS_THREADS` (default 1: the engines parallelise over users or batches themselves, and
/// one thread keeps sums in one order on a machine). Library code never changes it.
public enum BLASThreads {
    /// Sets the count from `environment`; returns a line to log when the variable was set (nil otherwise).
    @discardableResult
    public static func apply(environment: [String: String]) -> String? {
        let configured = environment["TASTEGRAPH_BLAS_THREADS"]
        let threads = configured.flatMap(Int.init).map { max(1, $0) } ?? 1
        BLAS.setThreadCount(threads)
        return configured.map { _ in "OpenBLAS threads: \(threads) (TASTEGRAPH_BLAS_THREADS)" }
    }
}
