import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOHTTPTypes
import Synchronization
import Testing

@testable import ServiceKit

/// HTTP hardening: per-credential rate limit, idle / slow-client timeout, request head limits.
@Suite struct HTTPHardeningTests {
    @Test func tokenBucketsRefillAndSayWhenToRetry() {
        var buckets = TokenBuckets(rate: 2, burst: 4)
        for _ in 0..<4 { #expect(buckets.take("a", now: 100) == .allowed) }
        #expect(buckets.take("a", now: 100) == .limited(retryAfter: 1))
        // Another credential has a bucket of its own.
        #expect(buckets.take("b", now: 100) == .allowed)
        // Half a second refills one token at 2/s.
        #expect(buckets.take("a", now: 100.5) == .allowed)
        #expect(buckets.take("a", now: 100.5) == .limited(retryAfter: 1))
        var slow = TokenBuckets(rate: 0.1, burst: 1)
        #expect(slow.take("x", now: 0) == .allowed)
        #expect(slow.take("x", now: 0) == .limited(retryAfter: 10))
    }

    @Test func bucketsAreBounded() {
        var buckets = TokenBuckets(rate: 1, burst: 1, maxKeys: 100)
        for i in 0..<1_000 { _ = buckets.take("k\(i)", now: Double(i)) }
        #expect(buckets.keyCount <= 100)
        // The one being pressed survives eviction of idle, refilled ones.
        for i in 0..<50 { _ = buckets.take("hot", now: 1_000 + Double(i) * 0.01) }
        for i in 0..<200 { _ = buckets.take("cold\(i)", now: 1_001) }
        #expect(buckets.take("hot", now: 1_001) == .limited(retryAfter: 1) || buckets.keyCount <= 100)
    }

    /// The rate limiter's clock stands still: what passes is the burst, whatever the machine's speed.
    func app(rate: Double, idleTimeout: Double = 30, probe: ConnectionProbe.Log? = nil) -> some ApplicationProtocol {
        let router = HTTPListener.makeRouter(
            metrics: ServiceMetrics(service: "hardening-test", registry: .init()),
            readiness: { ReadinessReport(ready: true) }, authenticator: TokenAuthenticator(grants: []), rateLimit: rate,
            rateClock: { 1_000 },
            routes: { router in router.get("/v1/ping") { _, _ in "pong" } })
        return HTTPListener.makeApplication(
            router: router, host: "127.0.0.1", port: 0, serverName: "test", logger: Logger(label: "test"),
            idleTimeout: idleTimeout, channelHandlers: { probe.map { [ConnectionProbe(log: $0)] } ?? [] })
    }

    @Test func aCredentialOverItsRateGets429WithRetryAfter() async throws {
        try await app(rate: 5).test(.router) { client in
            var statuses: [HTTPResponse.Status] = []
            var retryAfter: String?
            for _ in 0..<25 {
                try await client.execute(uri: "/v1/ping", method: .get, headers: [.authorization: "Bearer busy"]) { response in
                    statuses.append(response.status)
                    if response.status == .tooManyRequests {
                        retryAfter = response.headers[.retryAfter]
                        #expect(response.headers[.contentType]?.hasPrefix("application/problem+json") == true)
                        #expect(String(buffer: response.body).contains("rate-limited"))
                    }
                }
            }
            // A burst of twice the rate passes, the rest is refused.
            #expect(statuses.prefix(10).allSatisfy { $0 == .ok })
            #expect(statuses.dropFirst(10).allSatisfy { $0 == .tooManyRequests }, "\(statuses)")
            #expect(retryAfter == "1")
            // Another credential, and the open probes, are not held back by it.
            try await client.execute(uri: "/v1/ping", method: .get, headers: [.authorization: "Bearer other"]) { response in
                #expect(response.status == .ok)
            }
            for _ in 0..<30 {
                try await client.execute(uri: "/healthz", method: .get) { response in #expect(response.status == .ok) }
            }
        }
    }

    @Test func noLimitWhenTurnedOff() async throws {
        try await app(rate: 0).test(.router) { client in
            for _ in 0..<100 {
                try await client.execute(uri: "/v1/ping", method: .get, headers: [.authorization: "Bearer busy"]) { response in
                    #expect(response.status == .ok)
                }
            }
        }
    }

    @Test func aSlowClientIsCutOffAndLongHeadsRefused() async throws {
        let probe = ConnectionProbe.Log()
        try await app(rate: 0, idleTimeout: 2, probe: probe).test(.live) { client in
            let port = try #require(client.port)
            // Half a request head, then silence: closed after the idle timeout.
            let slow = try RawConnection(port: port)
            try slow.send("GET /v1/ping HTTP/1.1\r\nHost: x\r\n")
            let started = ContinuousClock.now
            // Generous: on a machine busy with the whole suite the timer fires late, but it fires.
            let answer = await slow.readUntilClosed(timeout: 60)
            #expect(answer.closed, "a slow client must be cut off (\(answer.note)); server side: \(probe.text)")
            #expect(ContinuousClock.now - started < .seconds(59))
            // A normal request on a fresh connection still works (the test client's own keep-alive
            // connection has been idle for longer than the timeout too, and was closed).
            let normal = try RawConnection(port: port)
            try normal.send("GET /v1/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let answered = await normal.readUntilClosed(timeout: 30)
            #expect(answered.text.hasPrefix("HTTP/1.1 200"), "\(answered.text.prefix(200))")
            // A head of more than 80 KiB of header fields is refused, and so are more than 100 fields.
            let big = try RawConnection(port: port)
            try big.send("GET /v1/ping HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 90_000))\r\n\r\n")
            let refused = await big.readUntilClosed(timeout: 30)
            #expect(!refused.text.hasPrefix("HTTP/1.1 200"), "\(refused.text.prefix(200))")
            let many = try RawConnection(port: port)
            let fields = (0..<150).map { "X-F\($0): v\r\n" }.joined()
            try many.send("GET /v1/ping HTTP/1.1\r\nHost: x\r\n\(fields)\r\n")
            let tooMany = await many.readUntilClosed(timeout: 30)
            #expect(!tooMany.text.hasPrefix("HTTP/1.1 200"), "\(tooMany.text.prefix(200))")
        }
    }
}

/// What the server did with each connection, and how late its event loop ran (to tell a
/// connection not accepted from a timer not fired from a loop held up).
final class ConnectionProbe: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    final class Log: Sendable {
        let started = ContinuousClock.now
        let lines = Mutex<[String]>([])
        func add(_ line: String) {
            let ms = (ContinuousClock.now - started).components
            lines.withLock { $0.append("\(ms.seconds * 1000 + ms.attoseconds / 1_000_000_000_000_000) ms \(line)") }
        }
        var text: String { lines.withLock { $0.joined(separator: "; ") } }
    }

    let log: Log
    private var lagCheck: RepeatedTask?
    init(log: Log) { self.log = log }

    func handlerAdded(context: ChannelHandlerContext) {
        let peer = context.channel.remoteAddress?.port ?? -1
        log.add("added peer \(peer) active \(context.channel.isActive)")
        var expected = NIODeadline.now() + .milliseconds(500)
        let log = self.log
        lagCheck = context.eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(500), delay: .milliseconds(500)) { _ in
            let lag = (NIODeadline.now() - expected).nanoseconds / 1_000_000
            if lag > 250 { log.add("peer \(peer) loop late \(lag) ms") }
            expected = NIODeadline.now() + .milliseconds(500)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        log.add("peer \(context.channel.remoteAddress?.port ?? -1) read \(unwrapInboundIn(data))".prefix(120).description)
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        log.add("peer \(context.channel.remoteAddress?.port ?? -1) closed")
        lagCheck?.cancel()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { lagCheck?.cancel() }
}

/// A plain TCP connection to 127.0.0.1, for what an HTTP client library would not send.
struct RawConnection: Sendable {
    let fd: Int32
    /// The socket's own port, to tell whether `fd` still is this connection when a read goes wrong.
    let localPort: Int

    init(port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw POSIXError(.ECONNREFUSED) }
        localPort = Self.localPort(of: fd)
    }

    static func localPort(of fd: Int32) -> Int {
        var addr = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let rc = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return rc == 0 ? Int(UInt16(bigEndian: addr.sin_port)) : -1
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw POSIXError(.EPIPE) }
            sent += n
        }
    }

    /// Reads until the peer closes (or `timeout` seconds pass) on a thread of its own (a blocking
    /// read must not hold one of the few cooperative threads other tests run on); closes the socket.
    func readUntilClosed(timeout: Double) async -> (closed: Bool, text: String, note: String) {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: blockingRead(timeout: timeout)) }.start()
        }
    }

    private func blockingRead(timeout: Double) -> (closed: Bool, text: String, note: String) {
        defer { close(fd) }
        let started = Date()
        func note(_ what: String) -> String {
            let port = Self.localPort(of: fd)
            return "\(what) after \(Int(Date().timeIntervalSince(started) * 1000)) ms; fd \(fd) "
                + (port == localPort ? "still is this connection" : "now is port \(port), not \(localPort)")
        }
        var tv = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var received: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { return (true, String(decoding: received, as: UTF8.self), note("closed")) }
            if n < 0 {
                let error = errno
                if error == EAGAIN || error == EWOULDBLOCK || error == EINTR { continue }
                return (true, String(decoding: received, as: UTF8.self), note("read error \(error)"))  // reset
            }
            received += buffer[0..<n]
        }
        return (false, String(decoding: received, as: UTF8.self), note("still open, \(received.count) bytes read,"))
    }
}
