/// One progress line on stderr, shared by every long command (`train`, `evaluate`, `embed`): rewritten in
/// place on a terminal, printed as plain lines (only the milestones a command picks) otherwise, and nothing
/// at all with --quiet.
final class ProgressLine {
    let context: CLIContext
    let quiet: Bool
    private var shownInPlace = false

    init(context: CLIContext, quiet: Bool) {
        self.context = context
        self.quiet = quiet
    }

    /// Shows `text`; when stderr is not a terminal, only a `milestone` is printed (as its own line).
    func show(_ text: String, milestone: Bool) {
        guard !quiet else { return }
        if context.stderrIsTerminal {
            context.stderr("\r" + text + "  ")
            shownInPlace = true
        } else if milestone {
            context.stderr(text + "\n")
        }
    }

    /// Ends the in-place line and prints `summary` (when given) on its own line.
    func finish(_ summary: String? = nil) {
        guard !quiet else { return }
        if shownInPlace { context.stderr("\n") }
        shownInPlace = false
        if let summary { context.stderr(summary + "\n") }
    }
}
