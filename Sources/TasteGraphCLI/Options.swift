import ArgumentParser
import Foundation
import TasteGraphCore
import TasteGraphRecommend
import TasteGraphSupport

/// `--store FILE`, shared by every command that reads or writes a store.
struct StoreOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The dataset's SQLite store file.", valueName: "file"))
    var store: String
}

/// `--json` and `--quiet`, shared by every command that reports.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print one JSON object on stdout instead of text.")
    var json = false

    @Flag(name: .long, help: "Print only errors on stderr (no progress or warnings).")
    var quiet = false
}

/// `--force`, shared by every command that writes a file: without it an existing file is never replaced.
/// With it, an existing *file* may be replaced; a directory or the store never is.
struct ForceOption: ParsableArguments {
    @Flag(name: .long, help: "Replace an existing output file (never a directory or the store).")
    var force = false

    /// The guard for this command's outputs, protecting `store` (when the command has one).
    func outputGuard(store: String?) -> OutputGuard {
        OutputGuard(force: force, protecting: store.map { [$0] } ?? [])
    }
}

/// Every `--json` output goes through here: Codable values with stable, snake_case keys (`encode`), or an
/// assembled object (`line`).
enum JSONOutput {
    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// A JSON object assembled from parts (summaries that merge Codable reports with a few extra keys), as
    /// one line with sorted keys. `embed --json` alone writes its own literals (`JSONText`), for speed.
    static func line(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }
}

/// Formats numbers for text tables.
enum Format {
    static func number(_ value: Double, digits: Int = 2) -> String {
        if value == value.rounded() && abs(value) < 1e15 { return grouped(Int64(value)) }
        return String(format: "%.\(digits)f", value)
    }

    static func grouped<T: BinaryInteger>(_ value: T) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, char) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(char)
        }
        return value < 0 ? "-" + out : out
    }
}

/// `--train FILE --test FILE` or `--test-fraction`, shared by `train` and `evaluate`: which split an
/// `ExperimentSetup` is built from.
struct SplitOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Explicit train split file (userID<TAB>itemID<TAB>weight, ids as in the store).", valueName: "file"))
    var train: String?
    @Option(name: .long, help: ArgumentHelp("Explicit test split file.", valueName: "file"))
    var test: String?
    @Option(name: .long, help: "Share of each user's listens held out for test when no --test is given (default 0.1).")
    var testFraction = 0.1

    func validate() throws {
        if (train == nil) != (test == nil) { throw ValidationError("give both --train and --test, or neither") }
        guard (0..<1).contains(testFraction) else { throw ValidationError("--test-fraction must be in [0, 1)") }
    }

    /// The split files, loaded through the catalog's ids, or the seeded holdout.
    func choice(catalog: Catalog) throws -> ExperimentSetup.SplitChoice {
        if let train, let test { return try .files(train: train, test: test, catalog: catalog) }
        return .holdout(testFraction: testFraction)
    }
}
