import Foundation
import TasteGraphStore
#if canImport(Glibc)
import Glibc
#endif

/// A `tastegraph-server` process of the replay's own, on a copy of the store: the copy is made in a new
/// private folder (`VACUUM INTO`, the user's store is only read), the held-out listens are withheld from
/// it so they can arrive again as live events, and the server runs on 127.0.0.1 with a free port and a
/// random token. `stop()` ends the server (SIGTERM) and removes the folder, unless the copy is kept.
public final class LocalReplayServer {
    public let folder: String
    public let storeCopy: String
    public let url: String
    public let token: String
    public let withheld: Int
    let process = Process()

    /// - Parameters:
    ///   - executable: the `tastegraph-server` binary.
    ///   - extraArguments: more server flags (e.g. `--no-exposure-log`).
    ///   - log: told each step ("copying the store", …).
    /// - Throws: `StoreError` for a store that cannot be copied; `HTTPConnection.Failure` when the server
    ///   does not start within `timeout` seconds (its stderr is in the message).
    public init(
        store: String, model: String, experiments: [String], withholding listens: [HeldOutListen], executable: String, extraArguments: [String] = [],
        timeout: Double = 180, log: (String) -> Void = { _ in }
    ) throws {
        var template = Array((FileManager.default.temporaryDirectory.path + "/tastegraph-replay-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ buffer in mkdtemp(buffer.baseAddress!).map { String(cString: $0) } }) else {
            throw StoreError("cannot create a temporary folder for the replay's store copy")
        }
        folder = made
        storeCopy = folder + "/store.db"
        do {
            log("copying the store to \(storeCopy)")
            let source = try GraphStore.openExisting(path: store)
            try source.copy(to: storeCopy)
            let copy = try GraphStore.openExisting(path: storeCopy)
            withheld = try copy.withholdListens(listens.map { ($0.user, $0.item) })
            log("withheld \(withheld) held-out listens from the copy")
            var bytes = [UInt8](repeating: 0, count: 16)
            for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
            token = bytes.map { String(format: "%02x", $0) }.joined()
            let tokenFile = folder + "/token"
            FileManager.default.createFile(atPath: tokenFile, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600])
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["--store", storeCopy, "--model", model, "--host", "127.0.0.1", "--port", "0", "--token-file", tokenFile, "--log-level", "warning"]
                + experiments.flatMap { ["--experiment", $0] } + extraArguments
            let stderr = Pipe()
            process.standardError = stderr
            process.standardOutput = FileHandle.nullDevice
            log("starting \(executable)")
            try process.run()
            var seen = ""
            let deadline = Date().addingTimeInterval(timeout)
            let handle = stderr.fileHandleForReading
            while !seen.contains("listening on") {
                guard Date() < deadline, process.isRunning else {
                    throw HTTPConnection.Failure(description: "tastegraph-server did not start within \(Int(timeout)) s: \(seen.trimmingCharacters(in: .whitespacesAndNewlines))")
                }
                // Wait at most 100 ms for output, so a server that hangs silently still meets the deadline.
                var ready = pollfd(fd: handle.fileDescriptor, events: Int16(POLLIN), revents: 0)
                guard poll(&ready, 1, 100) > 0 else { continue }
                let data = handle.availableData
                if data.isEmpty { usleep(20_000) }
                seen += String(decoding: data, as: UTF8.self)
            }
            guard let line = seen.split(separator: "\n").first(where: { $0.contains("listening on") }), let port = Int(line.split(separator: ":").last ?? "") else {
                throw HTTPConnection.Failure(description: "no port in the server's output: \(seen)")
            }
            url = "http://127.0.0.1:\(port)"
            // Keep draining the server's stderr so it never blocks on a full pipe.
            handle.readabilityHandler = { $0.availableData.isEmpty ? ($0.readabilityHandler = nil) : () }
        } catch {
            if process.isRunning { process.terminate(); process.waitUntilExit() }
            try? FileManager.default.removeItem(atPath: folder)
            throw error
        }
    }

    /// Stops the server (SIGTERM, waiting for it) and removes the folder; with `keepStore`, the store copy
    /// is first moved there (a new path).
    /// - Throws: `StoreError` when `keepStore` exists (the folder is kept then, and named in the message).
    public func stop(keepStore: String? = nil) throws {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        if let keepStore {
            guard !FileManager.default.fileExists(atPath: keepStore) else {
                throw StoreError("\(keepStore) exists; the replayed store stays at \(storeCopy)")
            }
            // The copy alone must hold everything: its exposure journal moved in, its WAL checkpointed.
            do {
                let copy = try GraphStore.openExisting(path: storeCopy)
                _ = try ExposureJournal.recover(storePath: storeCopy, into: copy)
                try copy.checkpoint()
            }
            try FileManager.default.moveItem(atPath: storeCopy, toPath: keepStore)
        }
        try? FileManager.default.removeItem(atPath: folder)
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}
