import ArgumentParser
import Foundation
import TasteGraphServing
import TasteGraphStore

/// `tastegraph experiment …`: the business metric of an experiment the server ran.
struct Experiment: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Report an experiment: the share of recommended songs that listeners played, per arm and per day.",
        subcommands: [Report.self]
    )

    struct Report: ContextCommand {
        static let configuration = CommandConfiguration(
            abstract: "Per arm and per day: users exposed, songs recommended and listened, the listened share with its 95% interval, and the difference to the control.",
            discussion: """
                Reads the store's exposure log (every list tastegraph-server served) and its live listens. A song \
                recommended to a user counts once per UTC day; it is listened when that user plays it within \
                --window-hours after the exposure (event time). Intervals: the delta method over users (see the \
                README, "Experiments"). The same report is served at GET /v1/experiments/{name}.
                """
        )

        @OptionGroup var store: StoreOption
        @Option(name: .long, help: "The experiment's name (as in its file).") var name: String
        @Option(name: .long, help: "Hours after an exposure within which a play counts.") var windowHours = 24.0
        @Option(name: .long, help: "Print the daily series of this arm only (default: every arm).") var arm: String?
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard windowHours.isFinite, windowHours >= 0, windowHours <= 24 * 365 else { throw ValidationError("--window-hours must be between 0 and 8760") }
        }

        func run(context: CLIContext) throws {
            let store = try GraphStore.openExisting(path: self.store.store)
            // What killed servers left in the exposure journal; a running server's newest quarter second stays.
            _ = try ExposureJournal.recover(storePath: self.store.store, into: store)
            let report: ExperimentReport
            do {
                report = try ExperimentReport.load(store: store, name: name, window: Int64((windowHours * 3_600).rounded()))
            } catch let error as ServingError {
                throw ValidationError(error.detail)
            }
            if let arm, !report.arms.contains(where: { $0.arm == arm }) {
                throw ValidationError("no arm '\(arm)' in \(name); arms: \(report.arms.map(\.arm).joined(separator: ", "))")
            }
            if output.json {
                context.print(try JSONOutput.encode(report))
                return
            }
            for line in ExperimentTable.lines(report, dailyArm: arm) { context.print(line) }
        }
    }
}

/// The text form of an `ExperimentReport`.
enum ExperimentTable {
    static func lines(_ report: ExperimentReport, dailyArm: String? = nil) -> [String] {
        var out = ["experiment \(report.experiment)   control \(report.control)   window \(Format.number(Double(report.windowSeconds) / 3_600, digits: 1)) h"]
        out.append("intervals: \(report.method)")
        out.append("")
        out.append(header(first: "arm"))
        for row in report.arms { out.append(line(row.arm, row)) }
        out.append("")
        out.append("by policy route")
        out.append(header(first: "arm / route"))
        for row in report.routes { out.append(line("\(row.arm) / \(row.route ?? "")", row)) }
        out.append("")
        out.append("daily" + (dailyArm.map { " (\($0))" } ?? ""))
        out.append(header(first: "day  arm"))
        for row in report.daily where dailyArm == nil || row.arm == dailyArm { out.append(line("\(row.day ?? "")  \(row.arm)", row)) }
        return out
    }

    /// The text form of an each-arm replay: every arm over every user, then each arm against the control
    /// paired by user.
    static func lines(_ result: EachArmReplay.Result) -> [String] {
        var out = ["experiment \(result.experiment), each arm replayed over every user   control \(result.control)   window \(Format.number(Double(result.windowSeconds) / 3_600, digits: 1)) h"]
        out.append("paired: \(result.method)")
        out.append("")
        out.append(header(first: "arm"))
        for row in result.arms { out.append(line(row.arm, row)) }
        out.append("")
        out.append(pad("arm − \(result.control), paired", 28) + pad("users", 8, right: true) + "  share diff [95% CI]              p          mean/user diff [95% CI]          p")
        for row in result.paired {
            out.append(pad(row.arm, 28) + pad(Format.grouped(row.users), 8, right: true) + "  " + pad(difference(row.listenedShare), 42)
                + difference(row.meanUserShare))
        }
        if !result.otherPairs.isEmpty {
            out.append("")
            out.append(pad("other pairs, paired", 28) + pad("users", 8, right: true) + "  share diff [95% CI]              p          mean/user diff [95% CI]          p")
            for row in result.otherPairs {
                out.append(pad("\(row.arm) − \(row.against)", 28) + pad(Format.grouped(row.users), 8, right: true) + "  "
                    + pad(difference(row.listenedShare), 42) + difference(row.meanUserShare))
            }
        }
        out.append("")
        out.append("by policy route")
        for row in result.routes { out.append(line("\(row.arm) / \(row.route ?? "")", row)) }
        return out
    }

    static func difference(_ c: Comparison) -> String {
        pad(String(format: "%+.3f%%", c.difference * 100) + (c.low.map { String(format: " [%+.3f, %+.3f]", $0 * 100, (c.high ?? 0) * 100) } ?? ""), 32)
            + (c.pValue.map { String(format: "%.3g", $0) } ?? "—")
    }

    static func header(first: String) -> String {
        pad(first, 28) + pad("users", 8, right: true) + pad("songs", 10, right: true) + pad("played", 9, right: true)
            + "  share [95% CI]            mean/user [95% CI]        vs control [95% CI]            p"
    }

    static func line(_ name: String, _ row: ArmFigures) -> String {
        var text = pad(name, 28) + pad(Format.grouped(row.users), 8, right: true) + pad(Format.grouped(row.recommended), 10, right: true)
            + pad(Format.grouped(row.listened), 9, right: true) + "  " + pad(estimate(row.listenedShare), 26) + pad(estimate(row.meanUserShare), 26)
        if let c = row.vsControl {
            text += pad(String(format: "%+.2f%%", c.difference * 100) + (c.low.map { String(format: " [%+.2f, %+.2f]", $0 * 100, (c.high ?? 0) * 100) } ?? ""), 31)
            text += c.pValue.map { String(format: "%.3g", $0) } ?? "—"
        } else {
            text += "—"
        }
        return text
    }

    static func estimate(_ e: Estimate) -> String {
        String(format: "%.2f%%", e.value * 100) + (e.low.map { String(format: " [%.2f, %.2f]", $0 * 100, (e.high ?? 0) * 100) } ?? "")
    }

    static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return right ? fill + text : text + fill
    }
}
