import ArgumentParser
import BLAS
import Foundation
import TasteGraphCore
import TasteGraphModel
import TasteGraphStore
import TasteGraphSupport

/// `tastegraph`: the root command.
public struct TasteGraphCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tastegraph",
        abstract: "Graph-based music recommendation: import listening data, inspect it, and ask the graph.",
        discussion: """
            Exit status: 0 success, 2 usage error, 3 invalid input data, 1 any other failure.
            Start with `tastegraph generate --seed 42 --out GraphData` or an import, then `tastegraph stats`.
            """,
        version: "0.1.0",
        subcommands: [Import.self, Generate.self, Stats.self, Prepare.self, Train.self, Evaluate.self, Recommend.self, Related.self, Similar.self, Segments.self, Embed.self, Experiment.self, Replay.self, Tune.self]
    )

    public init() {}
}

/// A subcommand whose work goes through an injected `CLIContext`.
protocol ContextCommand: ParsableCommand {
    func run(context: CLIContext) throws
}

extension ContextCommand {
    func run() throws { try run(context: .standard) }
}

/// Runs the command line in-process and returns the exit status the process should have.
public enum CommandLineTool {
    /// Exit statuses (documented in `--help`).
    public enum Status: Int32 {
        case success = 0, failure = 1, usage = 2, invalidData = 3
    }

    /// Every error message goes through `Printable.escaped` (line by line), so no input quoted in it can
    /// reach the terminal as a control sequence.
    /// Invalid input data (exit 3): a bad row, an aborted import, a missing, unreadable or directory input
    /// file, or a damaged, truncated or foreign model file.
    static func isInvalidInput(_ error: Error) -> Bool {
        error is InputError || error is ImportAborted || error is FileReadError || error is CheckpointError
    }

    /// OpenBLAS's thread count, from the environment (`TASTEGRAPH_BLAS_THREADS`, default 1: on 2-vCPU
    /// machines one thread is fastest, and the ALS and MiniLM workers each run single-threaded sgemm).
    /// The one place in TasteGraph that sets it; library code never changes it.
    static func configureBLAS(context: CLIContext) {
        if let line = BLASThreads.apply(environment: ProcessInfo.processInfo.environment) { context.stderr(line + "\n") }
    }

    public static func run(_ arguments: [String], context: CLIContext = .standard) -> Int32 {
        configureBLAS(context: context)
        func report(_ message: String, toStdout: Bool = false) {
            let safe = Printable.escaped(message, keepingNewlines: true) + "\n"
            if toStdout { context.stdout(safe) } else { context.stderr(safe) }
        }
        let command: ParsableCommand
        do {
            command = try TasteGraphCommand.parseAsRoot(arguments)
        } catch {
            let code = TasteGraphCommand.exitCode(for: error)
            let message = TasteGraphCommand.fullMessage(for: error)
            if code == .success {
                report(message, toStdout: true)
                return Status.success.rawValue
            }
            report(message)
            return Status.usage.rawValue
        }
        do {
            if let command = command as? ContextCommand {
                try command.run(context: context)
            } else {
                var plain = command
                try plain.run()
            }
            return Status.success.rawValue
        } catch where Self.isInvalidInput(error) {
            report("error: \(error)")
            return Status.invalidData.rawValue
        } catch let error as OutputPathError {
            // An output that would replace what TasteGraph did not create: nothing was written.
            report("error: \(error)")
            return Status.usage.rawValue
        } catch {
            // Help and usage errors raised while running (ArgumentParser's help command, `validate()`).
            let code = TasteGraphCommand.exitCode(for: error)
            if code == .success {
                report(TasteGraphCommand.fullMessage(for: error), toStdout: true)
                return Status.success.rawValue
            }
            if code == .validationFailure {
                report(TasteGraphCommand.fullMessage(for: error))
                return Status.usage.rawValue
            }
            report("error: \(error)")
            return Status.failure.rawValue
        }
    }
}
