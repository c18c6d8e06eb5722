import ArgumentParser
import Foundation
import TasteGraphStore

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
        subcommands: [Import.self, Generate.self, Stats.self, Prepare.self, Train.self, Evaluate.self, Recommend.self, Related.self, Segments.self, Embed.self]
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

    public static func run(_ arguments: [String], context: CLIContext = .standard) -> Int32 {
        let command: ParsableCommand
        do {
            command = try TasteGraphCommand.parseAsRoot(arguments)
        } catch {
            let code = TasteGraphCommand.exitCode(for: error)
            let message = TasteGraphCommand.fullMessage(for: error)
            if code == .success {
                context.stdout(message + "\n")
                return Status.success.rawValue
            }
            context.stderr(message + "\n")
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
        } catch let error as InputError {
            context.stderr("error: \(error)\n")
            return Status.invalidData.rawValue
        } catch let error as ImportAborted {
            context.stderr("error: \(error)\n")
            return Status.invalidData.rawValue
        } catch {
            // Help and usage errors raised while running (ArgumentParser's help command, `validate()`).
            let code = TasteGraphCommand.exitCode(for: error)
            if code == .success {
                context.stdout(TasteGraphCommand.fullMessage(for: error) + "\n")
                return Status.success.rawValue
            }
            if code == .validationFailure {
                context.stderr(TasteGraphCommand.fullMessage(for: error) + "\n")
                return Status.usage.rawValue
            }
            context.stderr("error: \(error)\n")
            return Status.failure.rawValue
        }
    }
}
