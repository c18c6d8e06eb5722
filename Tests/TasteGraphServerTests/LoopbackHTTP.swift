import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A minimal blocking HTTP/1.1 client for 127.0.0.1 (one request per connection, `Connection: close`),
/// so the live tests need no HTTP client library.
enum LoopbackHTTP {
    struct Reply {
        let status: Int
        let body: String
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Sends one request and reads the whole reply; fails after `timeout` seconds without progress.
    static func send(port: Int, method: String = "GET", path: String, body: String? = nil, token: String? = nil, timeout: Int = 20) throws -> Reply {
        let fd = try connect(port: port)
        defer { close(fd) }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        let payload = Array((body ?? "").utf8)
        if body != nil { head += "Content-Type: application/json\r\nContent-Length: \(payload.count)\r\n" }
        let bytes = Array((head + "\r\n").utf8) + payload
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBufferPointer { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send: errno \(errno)") }
            sent += n
        }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBufferPointer { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            guard n > 0 else { throw Failure(description: "recv: errno \(errno) after \(received.count) bytes") }
            received += chunk[0..<n]
        }
        let text = String(decoding: received, as: UTF8.self)
        guard let statusLine = text.split(separator: "\r\n", maxSplits: 1).first,
              let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "")
        else { throw Failure(description: "no HTTP status line in \(text.prefix(80))") }
        let bodyText = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return Reply(status: status, body: Self.dechunked(bodyText, chunked: text.lowercased().contains("transfer-encoding: chunked")))
    }

    /// A TCP socket connected to 127.0.0.1:`port` (the caller closes it).
    static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw Failure(description: "connect to 127.0.0.1:\(port): errno \(errno)")
        }
        return fd
    }

    static func dechunked(_ body: String, chunked: Bool) -> String {
        guard chunked else { return body }
        var out = ""
        var rest = Substring(body)
        while let line = rest.range(of: "\r\n") {
            guard let size = Int(rest[rest.startIndex..<line.lowerBound], radix: 16), size > 0 else { break }
            let start = line.upperBound
            let end = rest.utf8.index(start, offsetBy: size)
            out += rest[start..<end]
            rest = rest[end...].dropFirst(2)
        }
        return out
    }
}

/// A `tastegraph-server` process on a free loopback port, for the tests that need a real process
/// (SIGTERM, SIGKILL).
final class ServerProcess {
    let process = Process()
    let port: Int
    let stderr = Pipe()

    /// The built executable beside the test bundle (`swift test` builds every product first).
    static var executable: String? {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("tastegraph-server").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        let debug = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/tastegraph-server").path
        return FileManager.default.isExecutableFile(atPath: debug) ? debug : nil
    }

    /// Starts the server and waits (at most `timeout` seconds) for its `listening on` line.
    init(store: String, model: String, tokenFile: String, extra: [String] = [], timeout: Double = 60) throws {
        guard let executable = Self.executable else { throw LoopbackHTTP.Failure(description: "tastegraph-server is not built; run `swift build`") }
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["--store", store, "--model", model, "--port", "0", "--token-file", tokenFile, "--log-level", "warning"] + extra
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var seen = ""
        let deadline = Date().addingTimeInterval(timeout)
        let handle = stderr.fileHandleForReading
        while !seen.contains("listening on") {
            guard Date() < deadline, process.isRunning else { throw LoopbackHTTP.Failure(description: "the server did not start: \(seen)") }
            let data = handle.availableData
            if data.isEmpty { usleep(20_000) }
            seen += String(decoding: data, as: UTF8.self)
        }
        guard let line = seen.split(separator: "\n").first(where: { $0.contains("listening on") }),
              let port = Int(line.split(separator: ":").last ?? "")
        else { throw LoopbackHTTP.Failure(description: "no port in \(seen)") }
        self.port = port
    }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the process to end; its exit status.
    func wait() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }
}
