import Foundation
import Logging
import SQLite
import TasteGraphCore
import TasteGraphSupport

/// Options every importer takes.
public struct ImportOptions: Sendable {
    /// How many bad rows an import may skip (each is reported). 0: the first bad row fails the import.
    public var maxErrors: Int

    public init(maxErrors: Int = 0) {
        self.maxErrors = maxErrors
    }
}

/// What one file contributed to an import.
public struct FileImportReport: Codable, Sendable, Equatable {
    /// What the file holds: `listens`, `metadata`, `artists`, `tags`, `friends`, `tag-assignments`.
    public let kind: String
    public let file: String
    public let fingerprint: String
    public let bytes: Int
    public let rowsRead: Int
    public let rowsAccepted: Int
    public let rowsRejected: Int
    public let seconds: Double
}

/// What an import did: per-file counts, warnings, and the rows it skipped under `--max-errors`.
public struct ImportReport: Codable, Sendable {
    public var dataset: DatasetKind
    public var files: [FileImportReport] = []
    public var warnings: [String] = []
    public var skippedRows: [String] = []
    public var seconds: Double = 0

    /// Rows read across all files.
    public var rowsRead: Int { files.reduce(0) { $0 + $1.rowsRead } }
    public var rowsPerSecond: Double { seconds > 0 ? Double(rowsRead) / seconds : 0 }
}

/// The shared machinery of one import: the transaction's bookkeeping, the bad-row budget and the
/// import log. Importers read files through `read(_:kind:header:row:)` and report bad rows by throwing
/// `FieldError` from the row callback.
final class ImportSession {
    let db: Database
    let options: ImportOptions
    let logger: Logger
    var report: ImportReport
    private var skipped: [InputError] = []

    init(db: Database, dataset: DatasetKind, options: ImportOptions, logger: Logger) {
        self.db = db
        self.options = options
        self.logger = logger
        self.report = ImportReport(dataset: dataset)
    }

    /// How a file's lines make records.
    enum Framing {
        /// One line, one record.
        case lines
        /// RFC 4180 CSV: a quoted field may hold line breaks, so a record may span lines. The record is
        /// handed over with LF between its lines (a CRLF inside a field becomes LF) and the number of its
        /// first line; later lines keep their own numbers.
        case csv
    }

    /// The most lines one CSV record may span: a quote left open by mistake would otherwise swallow the rest
    /// of the file into memory.
    static let maximumLinesPerRecord = 1_000

    /// Reads `path` line by line inside the surrounding transaction and logs the file in `imports`.
    ///
    /// - Parameters:
    ///   - header: the exact first line the format requires, or nil for headerless formats.
    ///   - framing: how lines make records (`.csv`: quoted fields may span lines).
    ///   - row: called for every data record with the file's import-log id, the (first) line number and its
    ///     bytes; throw `FieldError` to reject the row.
    ///   - end: called after the last line (to flush buffered rows); may reject earlier lines through
    ///     `rejectLine(_:reason:)`.
    /// - Throws: `InputError` for a missing, unreadable or directory file, a wrong header or the first bad
    ///   row (when `maxErrors` is 0), `ImportAborted` when more rows are bad than allowed, or whatever `row`
    ///   throws otherwise.
    @discardableResult
    func read(
        _ path: String, kind: String, header: String?, framing: Framing = .lines,
        row: (_ importID: Int64, _ line: Int, _ bytes: UnsafeRawBufferPointer) throws -> Void,
        end: () throws -> Void = {}
    ) throws -> FileImportReport {
        do { try FileReadError.checkReadable(path) } catch let error as FileReadError {
            throw InputError(file: path, line: nil, reason: error.reason)
        }
        let started = Date()
        let startedAt = ISO8601DateFormatter().string(from: started)
        try db.run(
            "INSERT INTO imports(kind, file, fingerprint, bytes, rows_read, rows_accepted, rows_rejected, started_at, seconds) VALUES (?, ?, '', 0, 0, 0, 0, ?, 0)",
            .text(kind), .text(path), .text(startedAt))
        let importID = db.lastInsertRowID
        var rowsRead = 0
        currentPath = path
        currentRejected = 0
        func record(_ number: Int, _ line: UnsafeRawBufferPointer) throws {
            rowsRead += 1
            if rowsRead % 1_000_000 == 0 {  // progress on long files
                let rate = Double(rowsRead) / max(Date().timeIntervalSince(started), 1e-9)
                logger.info("\(kind): \(rowsRead / 1_000_000)M rows read (\(Int(rate / 1000))k rows/s)")
            }
            do {
                try row(importID, number, line)
            } catch let error as FieldError {
                try rejectLine(number, reason: error.reason)
            }
        }
        // A CSV record still open at the end of a line: its bytes so far, its first line and line count.
        var openRecord: (bytes: [UInt8], line: Int, lines: Int)?
        var scanner = CSV.RecordScanner()
        let fileResult: (fingerprint: String, bytes: Int)
        do {
            fileResult = try LineReader(path: path).forEachLine { number, line in
                if number == 1, let header {
                    let found = String(decoding: line, as: UTF8.self)
                    guard found == header else {
                        throw InputError(
                            file: path, line: 1,
                            reason: "expected the header '\(header.replacingOccurrences(of: "\t", with: "\\t"))', found '\(found.prefix(80))'")
                    }
                    return
                }
                guard framing == .csv else {
                    if !line.isEmpty { try record(number, line) }
                    return
                }
                if var pending = openRecord {
                    scanner.scan(line)
                    pending.bytes.append(0x0A)
                    pending.bytes.append(contentsOf: line)
                    pending.lines += 1
                    if scanner.isInsideQuotes {
                        guard pending.lines < Self.maximumLinesPerRecord else {
                            throw InputError(
                                file: path, line: pending.line,
                                reason: "unterminated quoted field: no closing quote within \(Self.maximumLinesPerRecord) lines")
                        }
                        openRecord = pending
                    } else {
                        openRecord = nil
                        try pending.bytes.withUnsafeBytes { try record(pending.line, $0) }
                    }
                    return
                }
                if line.isEmpty { return }
                scanner = CSV.RecordScanner()
                scanner.scan(line)
                if scanner.isInsideQuotes {
                    openRecord = (Array(line), number, 1)
                } else {
                    try record(number, line)
                }
            }
        } catch let error as FileReadError {
            throw InputError(file: path, line: nil, reason: error.reason)
        }
        if let pending = openRecord {  // the file ended inside a quoted field: the parser reports it on its first line
            try pending.bytes.withUnsafeBytes { try record(pending.line, $0) }
        }
        let (fingerprint, bytes) = fileResult
        try end()
        let rejected = currentRejected
        let seconds = Date().timeIntervalSince(started)
        try db.run(
            "UPDATE imports SET fingerprint = ?, bytes = ?, rows_read = ?, rows_accepted = ?, rows_rejected = ?, seconds = ? WHERE id = ?",
            .text(fingerprint), .integer(Int64(bytes)), .integer(Int64(rowsRead)),
            .integer(Int64(rowsRead - rejected)), .integer(Int64(rejected)), .real(seconds), .integer(importID))
        let fileReport = FileImportReport(
            kind: kind, file: path, fingerprint: fingerprint, bytes: bytes, rowsRead: rowsRead,
            rowsAccepted: rowsRead - rejected, rowsRejected: rejected, seconds: seconds)
        report.files.append(fileReport)
        logger.info("\(kind): \(path): \(rowsRead - rejected) rows accepted, \(rejected) rejected in \(String(format: "%.2f", seconds)) s")
        return fileReport
    }

    private var currentPath = ""
    private var currentRejected = 0

    /// Rejects a line of the file being read, after the fact (rows written in batches are checked when
    /// the batch is flushed). Counts against the budget like any bad row.
    func rejectLine(_ line: Int, reason: String) throws {
        currentRejected += 1
        try reject(InputError(file: currentPath, line: line, reason: reason))
    }

    /// Counts a bad row against the budget: reports it, or stops the import when over budget.
    private func reject(_ error: InputError) throws {
        if options.maxErrors == 0 { throw error }
        if skipped.count >= options.maxErrors {
            throw ImportAborted(errors: skipped + [error], maxErrors: options.maxErrors)
        }
        skipped.append(error)
        report.skippedRows.append(error.description)
        logger.warning("skipped \(error.description)")
    }

    func warn(_ message: String) {
        report.warnings.append(message)
        logger.warning("\(message)")
    }
}
