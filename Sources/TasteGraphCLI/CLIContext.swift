import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Where a command writes: injected, so tests run commands in-process and read what they printed.
public struct CLIContext: Sendable {
    public var stdout: @Sendable (String) -> Void
    public var stderr: @Sendable (String) -> Void
    /// Whether stderr is a terminal (progress bars) or a pipe/file (plain lines).
    public var stderrIsTerminal: Bool

    public init(stdout: @escaping @Sendable (String) -> Void, stderr: @escaping @Sendable (String) -> Void, stderrIsTerminal: Bool) {
        self.stdout = stdout
        self.stderr = stderr
        self.stderrIsTerminal = stderrIsTerminal
    }

    /// The process's own standard output and error.
    public static var standard: CLIContext {
        CLIContext(
            stdout: { text in FileHandle.standardOutput.write(Data(text.utf8)) },
            stderr: { text in FileHandle.standardError.write(Data(text.utf8)) },
            stderrIsTerminal: isatty(2) == 1)
    }

    /// Prints one line to stdout.
    func print(_ line: String) { stdout(line + "\n") }

    /// A logger that writes `level: message` lines to this context's stderr.
    func logger(label: String, quiet: Bool) -> Logger {
        let sink = stderr
        var logger = Logger(label: label) { _ in StderrLogHandler(write: sink) }
        logger.logLevel = quiet ? .error : .info
        return logger
    }
}

/// A swift-log handler writing plain lines to an injected sink.
struct StderrLogHandler: LogHandler {
    let write: @Sendable (String) -> Void
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let prefix = event.level >= .warning ? "\(event.level): " : ""
        write(prefix + "\(event.message)\n")
    }
}
