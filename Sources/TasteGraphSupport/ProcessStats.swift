#if canImport(Glibc)
import Glibc
#endif

/// Resource figures of the current process, for progress lines and benchmark JSON.
public enum ProcessStats {
    /// Peak resident set size so far, in MiB (`getrusage`'s `ru_maxrss`, KiB on Linux).
    public static var peakRSSMiB: Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }
}
