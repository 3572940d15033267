import AMQPClient
import Foundation
import ITRTestSupport
import Testing

/// A three-node RabbitMQ cluster of its own (`broker.sh cluster start`), and one client given
/// every node in `AMQP_URL`: when the node it is connected to is killed it goes on with the next
/// node of the list, after the last with the first again, and no confirmed message is lost on
/// the quorum queue replicated over the three nodes.
@Suite("AMQP client on a RabbitMQ cluster", .serialized, .enabled(if: TestEnvironment.brokerTestsEnabled))
struct ClusterFailoverTests {
    static let prefix = "itr-test-c"
    static let port = Int(ProcessInfo.processInfo.environment["ITR_TEST_CLUSTER_PORT"] ?? "") ?? 5700

    static func node(_ index: Int) -> BrokerNode { BrokerNode(name: "\(prefix)-\(index)", port: port + index - 1) }

    @discardableResult
    static func cluster(_ args: String...) async throws -> String {
        try await node(1).script(["cluster"] + args + ["--prefix", prefix])
    }

    /// The AMQP port of the node a connection named `name` is connected to, as the cluster sees it.
    static func connectedPort(_ name: String, askingNode index: Int) async throws -> Int? {
        let listing = try await node(index).ctl("-q", "list_connections", "port", "client_properties")
        for line in listing.split(separator: "\n") where line.contains("\"\(name)\"") || line.contains("<<\"\(name)\">>") {
            if let port = line.split(whereSeparator: { $0 == "\t" || $0 == " " }).first.flatMap({ Int($0) }) { return port }
        }
        return nil
    }

    @Test(.timeLimit(.minutes(10)))
    func failsOverToTheNextNodeAndBackWithoutLosingConfirmedMessages() async throws {
        try? await Self.cluster("stop", "--purge")
        try await Self.cluster("start", "--nodes", "3", "--port", "\(Self.port)")
        let status = try await Self.cluster("status")
        for index in 1...3 { #expect(status.contains("\(Self.node(index).name)@localhost: running"), "\(status)") }

        let setup = try await AMQPTest.connect(Self.node(1).url, name: "cluster-setup")
        let queue = try await AMQPTest.freshQueue(setup, prefix: "test.cluster")
        await setup.close()
        // In production the queues exist long before a node dies. RabbitMQ 3.10 records a new
        // quorum queue's Ra server in a lazily flushed DETS file, so a member killed a moment after
        // the declaration can come back without it (and the next kill leaves no majority); a clean
        // app restart of each node flushes it.
        for index in 1...3 {
            try await Self.node(index).ctl("stop_app")
            try await Self.node(index).ctl("start_app")
            try await Self.node(index).ctl("await_startup")
        }

        let urls = (1...3).map { Self.node($0).url }.joined(separator: ",")
        let conn = try await AMQPTest.connect(urls, heartbeat: 2, name: "cluster-failover")
        let members = try await Self.node(1).ctl("-q", "list_queues", "name", "members")
        let line = members.split(separator: "\n").first { $0.hasPrefix(queue) }.map(String.init) ?? members
        for index in 1...3 { #expect(line.contains("\(Self.node(index).name)@localhost"), "the queue is replicated on every node: \(line)") }

        let collector = Collector(try await conn.consume(queue: queue, prefetch: 128))
        let publisher = ContinuousPublisher(conn: conn, queue: queue)
        try await publisher.waitForConfirmed(300)
        #expect(try await Self.connectedPort("cluster-failover", askingNode: 2) == Self.port, "the first node of the list is tried first")

        // Kill the node the client is on, three times: 1 → 2, 2 → 3, 3 → 1 (back to the first).
        var visited: [Int] = [Self.port]
        for victim in 1...3 {
            let survivor = victim % 3 + 1
            try await Self.node(victim).kill()
            let before = publisher.confirmedCount
            do {
                try await publisher.waitForConfirmed(before + 300, timeout: .seconds(120))
            } catch {
                let members = try? await Self.node(survivor).ctl("-q", "list_queues", "name", "leader", "online", "members")
                Issue.record("after node \(victim) was killed: \(error); the queue: \(members ?? "?")")
                throw error
            }
            let now = try await Self.connectedPort("cluster-failover", askingNode: survivor)
            #expect(now == Self.port + survivor - 1, "after node \(victim) is gone the client is on node \(survivor) (port \(String(describing: now)))")
            if let now { visited.append(now) }
            // The killed node rejoins the cluster before the next one goes (a quorum needs two of three).
            try await Self.node(victim).start()
            try await Task.sleep(for: .seconds(1))
        }
        #expect(visited == [Self.port, Self.port + 1, Self.port + 2, Self.port], "\(visited)")

        let confirmed = try await publisher.stop()
        #expect(conn.statistics.connectionLosses.load(ordering: .relaxed) >= 3)
        let missing = try await collector.waitFor(confirmed, timeout: .seconds(120))
        #expect(missing.isEmpty, "\(missing.count) of \(confirmed.count) confirmed messages never arrived")
        collector.task.cancel()
        try await conn.deleteQueue(queue)
        await conn.close()
        try await Self.cluster("stop", "--purge")
    }

    @Test func aListOfUnreachableNodesNamesEveryAttempt() async throws {
        let free = TestEnvironment.freePorts(2)
        let urls = "amqp://guest:guest@127.0.0.1:\(free)/%2f,amqp://guest:guest@127.0.0.1:\(free + 1)/%2f"
        await #expect {
            _ = try await AMQPTest.connect(urls, name: "cluster-unreachable")
        } throws: { error in
            let text = "\(error)"
            return text.contains("127.0.0.1:\(free)") && text.contains("127.0.0.1:\(free + 1)")
        }
    }
}
