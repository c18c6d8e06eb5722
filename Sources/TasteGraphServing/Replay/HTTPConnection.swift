import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One kept-alive HTTP/1.1 connection to a TasteGraph server (plain HTTP, IPv4), blocking: what the
/// replay drives the real API with. Requests go one at a time; replies are read by Content-Length (or
/// chunked). A server that closes the connection is reconnected once per request.
public final class HTTPConnection {
    public struct Reply: Sendable {
        public let status: Int
        public let body: [UInt8]
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
        /// The peer closed the connection (or reset it), as opposed to a timeout or a malformed reply.
        var closed = false

        public init(description: String) { self.description = description }

        init(description: String, closed: Bool) {
            self.description = description
            self.closed = closed
        }
    }

    /// Largest reply body read (a larger Content-Length or chunk is refused).
    static let maximumBody = 256 << 20

    public let host: String
    public let port: Int
    let timeout: Int
    var fd: Int32 = -1
    var buffer: [UInt8] = []
    /// Bytes read for the reply being read.
    var received = 0

    /// - Parameter url: `http://HOST:PORT` (an IPv4 address or `localhost`).
    /// - Throws: `Failure` for another scheme or a malformed address.
    public convenience init(url: String, timeout: Int = 30) throws {
        guard url.hasPrefix("http://") else { throw Failure(description: "\(url): only http:// URLs are supported") }
        let rest = url.dropFirst("http://".count).split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
        let parts = rest.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]), (1...65_535).contains(port) else {
            throw Failure(description: "\(url): give http://HOST:PORT")
        }
        self.init(host: String(parts[0]), port: port, timeout: timeout)
    }

    public init(host: String, port: Int, timeout: Int = 30) {
        self.host = host == "localhost" ? "127.0.0.1" : host
        self.port = port
        self.timeout = timeout
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Sends one request and reads its reply.
    /// - Throws: `Failure` when the server cannot be reached or answers something that is not HTTP.
    public func send(_ method: String, _ path: String, body: [UInt8]? = nil, token: String? = nil) throws -> Reply {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
        let bytes = Array((head + "\r\n").utf8) + (body ?? [])
        for attempt in 0..<2 {
            let reused = fd >= 0
            do {
                if fd < 0 { try connect() }
                try write(bytes)
                received = 0
                return try readReply()
            } catch let failure as Failure {
                disconnect()
                // Only a kept-alive connection the server had closed before it read this request is retried:
                // nothing of a reply came back, and the cause is a closed peer, not a timeout (the server may
                // have answered; a retried GET would log its exposure twice).
                guard attempt == 0, reused, received == 0, failure.closed else { throw failure }
            }
        }
        throw Failure(description: "\(method) \(path): the server closed the connection")
    }

    func connect() throws {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(socketFD, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socketFD, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(socketFD, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            close(socketFD)
            throw Failure(description: "\(host) is not an IPv4 address")
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let code = errno
            close(socketFD)
            throw Failure(description: "cannot connect to \(host):\(port) (errno \(code)): is the server running?")
        }
        fd = socketFD
        buffer.removeAll()
    }

    func disconnect() {
        if fd >= 0 { close(fd) }
        fd = -1
        buffer.removeAll()
    }

    func write(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBufferPointer { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else {
                let code = errno
                throw Failure(description: "send: errno \(code)", closed: code == EPIPE || code == ECONNRESET)
            }
            sent += n
        }
    }

    /// Reads more bytes into `buffer`; throws when the peer closed.
    func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let n = chunk.withUnsafeMutableBufferPointer { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else {
            let code = errno
            throw Failure(description: n == 0 ? "connection closed" : "recv: errno \(code)", closed: n == 0 || code == ECONNRESET)
        }
        received += n
        buffer += chunk[0..<n]
    }

    func readLine() throws -> String {
        while true {
            if let end = buffer.firstIndex(of: 0x0A) {
                let line = buffer[..<end]
                buffer.removeSubrange(...end)
                return String(decoding: line.last == 0x0D ? line.dropLast() : line, as: UTF8.self)
            }
            try fill()
        }
    }

    func readBytes(_ count: Int) throws -> [UInt8] {
        while buffer.count < count { try fill() }
        let bytes = Array(buffer[..<count])
        buffer.removeSubrange(..<count)
        return bytes
    }

    func readReply() throws -> Reply {
        let statusLine = try readLine()
        guard statusLine.hasPrefix("HTTP/1."), let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") else {
            throw Failure(description: "not an HTTP reply: \(statusLine.prefix(80))")
        }
        var length: Int?
        var chunked = false
        var close = false
        while true {
            let line = try readLine()
            if line.isEmpty { break }
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let name = parts[0].lowercased(), value = parts[1].trimmingCharacters(in: .whitespaces).lowercased()
            if name == "content-length" {
                guard let value = Int(value), (0...Self.maximumBody).contains(value) else { throw Failure(description: "bad Content-Length: \(line.prefix(80))") }
                length = value
            }
            if name == "transfer-encoding" && value.contains("chunked") { chunked = true }
            if name == "connection" && value == "close" { close = true }
        }
        var body: [UInt8] = []
        if chunked {
            while true {
                let line = try readLine()
                guard let size = Int(line.split(separator: ";").first ?? "", radix: 16), (0...Self.maximumBody).contains(size),
                      body.count + size <= Self.maximumBody
                else { throw Failure(description: "bad chunk size: \(line.prefix(80))") }
                if size == 0 {
                    _ = try readLine()
                    break
                }
                body += try readBytes(size)
                _ = try readLine()
            }
        } else if let length {
            body = try readBytes(length)
        }
        if close { disconnect() }
        return Reply(status: status, body: body)
    }
}
