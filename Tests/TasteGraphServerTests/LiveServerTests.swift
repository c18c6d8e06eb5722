import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TasteGraphServer
import TasteGraphServing
import TasteGraphStore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The server on a real loopback socket: in-process, and as the `tastegraph-server` process under SIGTERM
/// and SIGKILL. Bounded: a few hundred requests, seconds each.
@Suite(.serialized) struct LiveServerTests {
    static func quietLogger() -> Logger {
        var logger = Logger(label: "live-test")
        logger.logLevel = .warning
        return logger
    }

    /// Runs `body` on a thread of its own (the blocking socket client must not hold an async executor).
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    /// Runs the fixture's server on a free loopback port while `body` runs, then shuts it down gracefully.
    static func serving(_ f: ServerFixture, _ body: (Int) async throws -> Void) async throws {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = f.server.application(logger: quietLogger()) { port in continuation.yield(port) }
        let group = ServiceGroup(configuration: .init(services: [app], logger: quietLogger()))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            try await body(port)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test func anEphemeralLoopbackPortAnswersAndShutsDownGracefully() async throws {
        var settings = ServerSettings()
        settings.port = 0
        let f = try ServerFixture(settings: settings)
        try await Self.serving(f) { port in
            #expect(port > 0)
            let user = f.live.snapshot.recommendations.users[0]
            let health = try await Self.blocking { try LoopbackHTTP.send(port: port, path: "/healthz") }
            #expect(health.status == 200 && health.body.contains("ok"))
            let list = try await Self.blocking { try LoopbackHTTP.send(port: port, path: "/v1/users/\(user)/recommendations?k=3") }
            #expect(list.status == 200 && list.body.contains("\"cold_start\":false"), "\(list.body)")
            let body = #"{"listens":[{"event_id":"live-1","user":"\#(user)","item":"SOKVZS5IGMK3FCAI0I","plays":2,"at":"2026-12-01T10:00:00Z"}]}"#
            let ack = try await Self.blocking { try LoopbackHTTP.send(port: port, method: "POST", path: "/v1/listens", body: body, token: ServerFixture.token) }
            #expect(ack.status == 200, "\(ack.body)")
        }
    }

    /// Requests during reloads all succeed: readers keep the snapshot they took.
    @Test func reloadsUnderLoadFailNoRequest() async throws {
        let f = try ServerFixture()
        let users = Array(f.live.snapshot.recommendations.users.prefix(50))
        let failures = Shared(0)
        let served = Shared(0)
        let client = f.client
        let (alsPath, knnPath) = (f.alsPath, f.knnPath)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for worker in 0..<4 {
                tasks.addTask {
                    for round in 0..<40 {
                        let reply = try await client.get("/v1/users/\(users[(worker * 40 + round) % users.count])/recommendations?k=10")
                        if reply.status == 200 { served.update { $0 += 1 } } else { failures.update { $0 += 1 } }
                    }
                }
            }
            tasks.addTask {
                for model in [alsPath, knnPath, alsPath] {
                    let reply = try await client.post("/v1/admin/reload", json: #"{"model":"\#(model)"}"#, token: ServerFixture.token)
                    #expect(reply.status == 200, "\(reply.text)")
                }
            }
            try await tasks.waitForAll()
        }
        #expect(failures.value == 0)
        #expect(served.value == 160)
        #expect(f.live.snapshot.model.kind == "als")
    }

    /// SIGTERM while a request is in flight (its head read, its body still arriving): the listening socket
    /// closes, the request is answered in full, then the process exits 0.
    @Test func sigtermFinishesTheRequestInFlight() async throws {
        let f = try ServerFixture()
        let tokenFile = f.dir.write("token", ServerFixture.token + "\n")
        let server = try ServerProcess(store: f.storePath, model: f.knnPath, tokenFile: tokenFile)
        let user = f.live.snapshot.recommendations.users[0]
        let body = #"{"listens":[{"event_id":"term-1","user":"\#(user)","item":"SOKVZS5IGMK3FCAI0I","plays":2,"at":"2026-12-01T10:00:00Z"}]}"#
        let connection = try RawConnection(port: server.port)
        let split = body.index(body.startIndex, offsetBy: 20)
        connection.write("POST /v1/listens HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(ServerFixture.token)\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body[..<split])
        usleep(500_000)
        server.signal(SIGTERM)
        usleep(300_000)
        #expect(throws: (any Error).self) { try LoopbackHTTP.send(port: server.port, path: "/healthz", timeout: 2) }
        connection.write(String(body[split...]))
        let reply = connection.readAll(timeout: 20)
        #expect(reply.hasPrefix("HTTP/1.1 200"), "\(reply)")
        #expect(reply.contains("\"accepted\":1"), "\(reply)")
        #expect(server.wait() == 0)
        #expect(try GraphStore.openExisting(path: f.storePath).listenEventCount() == 1)
    }

    /// A client streams acknowledged batches; the server is killed with SIGKILL mid-stream and restarted;
    /// every acknowledged event is in the store exactly once, and resending the batch that was in flight
    /// completes the stream without a duplicate.
    @Test func sigkillLosesNoAcknowledgedListen() async throws {
        let f = try ServerFixture()
        let tokenFile = f.dir.write("token", ServerFixture.token + "\n")
        let items = Array(f.live.snapshot.recommendations.catalog.itemExternalIDs.prefix(500))
        let users = Array(f.live.snapshot.recommendations.users.prefix(200))
        let batch: @Sendable (Int) -> String = { number in
            let events = (0..<100).map { k in
                #"{"event_id":"kill-\#(number)-\#(k)","user":"\#(users[(number * 7 + k) % users.count])","item":"\#(items[(number * 13 + k) % items.count])","plays":1,"at":"2026-12-01T10:00:00Z"}"#
            }
            return #"{"listens":[\#(events.joined(separator: ","))]}"#
        }
        let first = try ServerProcess(store: f.storePath, model: f.knnPath, tokenFile: tokenFile)
        let port = first.port
        let acked = Shared<[Int]>([])
        let streamer = Thread {
            for number in 0..<10_000 {
                guard let reply = try? LoopbackHTTP.send(port: port, method: "POST", path: "/v1/listens", body: batch(number), token: ServerFixture.token, timeout: 5),
                      reply.status == 200
                else { return }
                acked.update { $0.append(number) }
            }
        }
        streamer.start()
        while acked.value.count < 20 { usleep(5_000) }
        first.signal(SIGKILL)
        _ = first.wait()
        while streamer.isExecuting { usleep(10_000) }
        let confirmed = acked.value
        #expect(confirmed.count >= 20)

        let store = try GraphStore.openExisting(path: f.storePath)
        let stored = Set(try store.listenEvents().map(\.eventID))
        for number in confirmed {
            #expect((0..<100).allSatisfy { stored.contains("kill-\(number)-\($0)") }, "acknowledged batch \(number) is not all in the store")
        }
        // The batch in flight at the kill is all there or not at all (one transaction).
        let next = (confirmed.max() ?? -1) + 1
        let partial = (0..<100).filter { stored.contains("kill-\(next)-\($0)") }.count
        #expect(partial == 0 || partial == 100)
        #expect(stored.count == (confirmed.count + partial / 100) * 100)

        let second = try ServerProcess(store: f.storePath, model: f.knnPath, tokenFile: tokenFile)
        let resent = try LoopbackHTTP.send(port: second.port, method: "POST", path: "/v1/listens", body: batch(next), token: ServerFixture.token)
        #expect(resent.status == 200, "\(resent.body)")
        #expect(resent.body.contains(partial == 100 ? "\"duplicates\":100" : "\"accepted\":100"), "\(resent.body)")
        #expect(try store.listenEventCount() == (confirmed.count + 1) * 100)
        second.signal(SIGTERM)
        #expect(second.wait() == 0)
    }
}

/// A value several threads update under a lock.
final class Shared<Value: Sendable>: Sendable {
    let storage: Mutex<Value>
    init(_ value: Value) { storage = Mutex(value) }
    var value: Value { storage.withLock { $0 } }
    func update(_ body: (inout Value) -> Void) { storage.withLock { body(&$0) } }
}

/// Clients that stall mid-request hold only their own connection.
@Suite struct SlowClientTests {
    @Test func aStalledClientDoesNotDelayOthers() async throws {
        var settings = ServerSettings()
        settings.port = 0
        // Idle timeout 45 s; each request may take 20 s, all 20 together 30 s. Were the others held up behind
        // the stalled clients, the first request would wait for that timeout (≥ 45 s) and fail. The bounds
        // leave room for a 2-core machine busy with the other suites in parallel: with 5 s a request and 12 s
        // in all, one request timed out in CI while the warm-start CLI tests trained beside it.
        settings.idleTimeout = .seconds(45)
        let f = try ServerFixture(settings: settings)
        try await LiveServerTests.serving(f) { port in
            // Two stalled clients: one stops inside its request head, one inside its announced body.
            let stalled = try (0..<2).map { _ in try RawConnection(port: port) }
            stalled[0].write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow:")
            stalled[1].write("POST /v1/listens HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000\r\nAuthorization: Bearer \(ServerFixture.token)\r\n\r\n{\"listens\":[")
            let start = ContinuousClock.now
            for _ in 0..<20 {
                let reply = try await LiveServerTests.blocking { try LoopbackHTTP.send(port: port, path: "/healthz", timeout: 20) }
                #expect(reply.status == 200)
            }
            #expect(ContinuousClock.now - start < .seconds(30), "20 requests beside two stalled clients")
            // The idle timeout closes the one stalled in its head (the read sees the end of the stream).
            #expect(try await LiveServerTests.blocking { stalled[0].readUntilClosed(timeout: 90) })
        }
    }
}

/// A raw client socket that writes what it is told and nothing more.
final class RawConnection: @unchecked Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = try LoopbackHTTP.connect(port: port)
    }

    func write(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBufferPointer { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Everything the server sends until it closes the connection (or `timeout` seconds of silence).
    func readAll(timeout: Int) -> String {
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBufferPointer { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received += buffer[0..<n]
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// True when the server closes the connection within `timeout` seconds.
    func readUntilClosed(timeout: Int) -> Bool {
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBufferPointer { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return true }
            if n < 0 { return false }
        }
    }

    deinit { close(fd) }
}
