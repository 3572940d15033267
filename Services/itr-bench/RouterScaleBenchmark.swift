import AMQPClient
import Foundation

/// The router's per-event cost against the number of tickets it already stores, and the SLA
/// scheduler's cost with many open clocks.
///
/// Seeding 1,000,000 tickets through the broker would take longer than the benchmark, so the
/// store is grown by SQL in the router's own schema: the router first handles `templates`
/// real reports (intake → router, through the broker), then, stopped, those tickets are cloned
/// with `sqlite3` (rows of `tickets`, `ticket_history` and `ola_stints`, every column copied
/// as the router wrote it, ids prefixed `S<k>-`), opened 8 days and more in the past so they are
/// history (outside the problem detector's recurrence window), as in a store that has run for
/// years. Then `count` reports go through intake while the router is stopped, so they wait in
/// `itr-router.inbox`; the router starts and the time and CPU it takes to classify and assign
/// them is its per-event cost at that size.
///
/// SLA scheduler: `openClocks` clones get the future due moments of their originals (open
/// clocks), the router's idle CPU over 10 s is measured,
/// then `fireCount` of them are made due and the time until the router has handled them
/// (their rows gone from `due_moments`) is taken.
struct RouterScaleBenchmark {
    var environment: BenchEnvironment
    var storedSizes = [10_000, 1_000_000]
    var count = 5_000
    var templates = 1_000
    var openClocks = 100_000
    var fireCount = 2_000

    struct Size: Codable, Sendable {
        var storedTickets: Int
        var seedSeconds: Double
        var events: Int
        var wallMicrosPerEvent: Double
        var cpuMicrosPerEvent: Double
        var eventsPerSecond: Double
        var databaseMiB: Double
    }

    struct Scheduler: Codable, Sendable {
        var openClocks: Int
        var idleCPUPercent: Double
        var fired: Int
        var fireSeconds: Double
        var remainingDue: Int
    }

    struct Result: Codable, Sendable {
        var benchmark = "router-scale"
        var sizes: [Size]
        var ratioLargestToSmallest: Double?
        var scheduler: Scheduler?
        var seeding = "tickets cloned by SQL in the router's schema from router-written templates"
    }

    func run() async throws -> Result {
        let stage = try await environment.makeStage("router")
        do {
            let result = try await run(stage)
            await environment.tearDown(stage)
            return result
        } catch {
            await environment.tearDown(stage)
            throw error
        }
    }

    private func sql(_ database: String, _ statement: String) async throws -> String {
        try await ChildProcess.check(["sqlite3", "-bail", "-cmd", ".timeout 30000", database, statement])
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func columns(_ database: String, _ table: String) async throws -> [String] {
        try await sql(database, "SELECT name FROM pragma_table_info('\(table)')").split(separator: "\n").map(String.init)
    }

    /// Statements copying the template rows of `table` for k in `copies`: `idColumn` prefixed
    /// `S<k>-`, `replacements` applied to other columns.
    private func cloneStatement(
        _ database: String, table: String, idColumn: String, copies: ClosedRange<Int>, replacements: [String: String] = [:],
        where extra: String = ""
    ) async throws -> String {
        let names = try await columns(database, table)
        guard !names.isEmpty else { throw BenchError("table \(table) not found in \(database)") }
        let selected = names.map { name -> String in
            if name == idColumn { return "'S' || n.k || '-' || t.\(name)" }
            return replacements[name] ?? "t.\(name)"
        }
        return """
            WITH RECURSIVE n(k) AS (SELECT \(copies.lowerBound) UNION ALL SELECT k + 1 FROM n WHERE k < \(copies.upperBound))
            INSERT INTO \(table) (\(names.joined(separator: ", ")))
            SELECT \(selected.joined(separator: ", ")) FROM n, \(table) t WHERE t.\(idColumn) NOT LIKE 'S%' \(extra);
            """
    }

    private func run(_ stage: BenchEnvironment.Stage) async throws -> Result {
        let fleet = stage.fleet
        let observer = stage.observer
        let products = ["intake", "itr-router"]
        try await fleet.start(products)
        let consumer = try await observer.start(on: stage.observerConnection, desk: stage.deskConnection)
        defer { consumer.cancel() }
        let publisher = ReportPublisher(connection: stage.connection)
        let database = fleet.databasePath("itr-router")

        // Templates, through the broker.
        let templateMessages = (0..<templates).map { stage.mix.message(9_000_000 + $0) }
        _ = await publisher.publish(templateMessages, schedule: nil)
        guard await observer.wait(for: "itr.ticket.assigned", count: templates, timeout: .seconds(600)) else {
            throw BenchError("templates: \(observer.snapshot.counts)")
        }
        await fleet.stop(["itr-router"])
        let templateCount = Int(try await sql(database, "SELECT COUNT(*) FROM tickets")) ?? 0
        guard templateCount > 0 else { throw BenchError("the router stored no tickets") }

        var sizes: [Size] = []
        var nextCopy = 1
        var batch = 0
        for target in storedSizes.sorted() {
            let current = Int(try await sql(database, "SELECT COUNT(*) FROM tickets")) ?? 0
            let seedStart = PipelineObserver.now()
            if target > current {
                // Every router-written ticket (templates and earlier measured ones) is cloned.
                let originals = Int(try await sql(database, "SELECT COUNT(*) FROM tickets WHERE id NOT LIKE 'S%'")) ?? templateCount
                let copies = (target - current + originals - 1) / originals
                let range = nextCopy...(nextCopy + copies - 1)
                nextCopy += copies
                let shift = "t.opened_at - 691200 - n.k * 60"
                var script = "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; BEGIN;\n"
                script += try await cloneStatement(
                    database, table: "tickets", idColumn: "id", copies: range,
                    replacements: ["opened_at": shift, "updated_at": shift, "problem_id": "NULL"])
                script += try await cloneStatement(database, table: "ticket_history", idColumn: "ticket_id", copies: range)
                script += try await cloneStatement(database, table: "ola_stints", idColumn: "ticket_id", copies: range)
                script += "COMMIT; PRAGMA wal_checkpoint(TRUNCATE);"
                _ = try await sql(database, script)
            }
            let seedSeconds = BenchEnvironment.seconds(PipelineObserver.now() - seedStart)
            let stored = Int(try await sql(database, "SELECT COUNT(*) FROM tickets")) ?? 0
            environment.logger.notice("router store: \(stored) tickets (seeded in \(seedSeconds) s)")

            // The events wait in itr-router.inbox while the router is stopped.
            observer.reset()
            let base = 11_000_000 + batch * 1_000_000
            batch += 1
            let messages = (0..<count).map { stage.mix.message(base + $0) }
            _ = await publisher.publish(messages, schedule: nil)
            guard await observer.wait(for: "itr.ticket.opened", count: count, timeout: .seconds(600)) else {
                throw BenchError("intake opened \(observer.snapshot.count("itr.ticket.opened")) of \(count)")
            }
            let size = (try? FileManager.default.attributesOfItem(atPath: database)[.size] as? Int) ?? 0
            try await fleet.start(["itr-router"])
            let started = PipelineObserver.now()
            let cpu0 = fleet.cpuSeconds("itr-router")
            guard await observer.wait(for: "itr.ticket.assigned", count: count, timeout: .seconds(1800)) else {
                throw BenchError("router assigned \(observer.snapshot.count("itr.ticket.assigned")) of \(count)")
            }
            let last = observer.snapshot.lastAssignedNanos ?? PipelineObserver.now()
            let cpu = fleet.cpuSeconds("itr-router") - cpu0
            await fleet.stop(["itr-router"])
            let wall = BenchEnvironment.seconds(last - started)
            sizes.append(Size(
                storedTickets: stored, seedSeconds: seedSeconds, events: count, wallMicrosPerEvent: wall * 1e6 / Double(count),
                cpuMicrosPerEvent: cpu * 1e6 / Double(count), eventsPerSecond: Double(count) / wall,
                databaseMiB: Double(size) / 1_048_576))
        }
        let ratio = sizes.count >= 2 ? sizes.last!.wallMicrosPerEvent / sizes.first!.wallMicrosPerEvent : nil
        let scheduler = openClocks > 0 ? try await measureScheduler(stage, database: database) : nil
        return Result(sizes: sizes, ratioLargestToSmallest: ratio, scheduler: scheduler)
    }

    /// Gives `openClocks` cloned tickets the future due moments of their originals (open clocks);
    /// measures idle CPU, then makes `fireCount` moments due and times their handling.
    private func measureScheduler(_ stage: BenchEnvironment.Stage, database: String) async throws -> Scheduler {
        let fleet = stage.fleet
        let now = Date().timeIntervalSince1970
        // Pick `openClocks` clones whose original has future moments; copy those moments to them.
        let names = try await columns(database, "due_moments")
        let selected = names.map { $0 == "ticket_id" ? "p.clone" : "t.\($0)" }
        let script = """
            PRAGMA synchronous=OFF;
            CREATE TEMP TABLE pick AS
              SELECT x.id AS clone, substr(x.id, instr(x.id, '-') + 1) AS orig FROM tickets x
              WHERE x.id LIKE 'S%' AND EXISTS (
                SELECT 1 FROM due_moments d WHERE d.ticket_id = substr(x.id, instr(x.id, '-') + 1) AND d.due_at > \(now))
              LIMIT \(openClocks);
            BEGIN;
            INSERT INTO due_moments (\(names.joined(separator: ", ")))
              SELECT \(selected.joined(separator: ", ")) FROM pick p JOIN due_moments t ON t.ticket_id = p.orig AND t.due_at > \(now);
            COMMIT;
            PRAGMA wal_checkpoint(TRUNCATE);
            """
        _ = try await sql(database, script)
        let open = Int(try await sql(database, "SELECT COUNT(DISTINCT ticket_id) FROM due_moments WHERE due_at > \(now)")) ?? 0
        environment.logger.notice("scheduler: \(open) tickets with open clocks")

        try await fleet.start(["itr-router"])
        try await Task.sleep(for: .seconds(2))
        let cpu0 = fleet.cpuSeconds("itr-router")
        try await Task.sleep(for: .seconds(10))
        let idle = (fleet.cpuSeconds("itr-router") - cpu0) / 10 * 100
        await fleet.stop(["itr-router"])

        // Make fireCount moments of clones due now, then let the router handle them.
        let dueNow = Date().timeIntervalSince1970 - 1
        _ = try await sql(
            database,
            """
            UPDATE due_moments SET due_at = \(dueNow) WHERE rowid IN (
              SELECT rowid FROM due_moments WHERE ticket_id LIKE 'S%' AND due_at > \(dueNow) LIMIT \(fireCount));
            """)
        let due = Int(try await sql(database, "SELECT COUNT(*) FROM due_moments WHERE due_at <= \(dueNow + 0.5)")) ?? 0
        try await fleet.start(["itr-router"])
        let started = PipelineObserver.now()
        var remaining = due
        let deadline = ContinuousClock.now + .seconds(300)
        while ContinuousClock.now < deadline {
            remaining = Int(try await sql(database, "SELECT COUNT(*) FROM due_moments WHERE due_at <= \(dueNow + 0.5)")) ?? 0
            if remaining == 0 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let seconds = BenchEnvironment.seconds(PipelineObserver.now() - started)
        await fleet.stop(["itr-router"])
        return Scheduler(openClocks: open, idleCPUPercent: idle, fired: due - remaining, fireSeconds: seconds, remainingDue: remaining)
    }
}
