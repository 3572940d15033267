import Foundation
import ServiceKit

/// `GET /v1/service-levels`: the seeds' measures computed with SQL over the stored tickets.
///
/// Query: `groupBy` = comma list of `serviceType`, `priority`, `contractPackage`, `period`;
/// `period` = `day`, `week` or `month` (default month, by opening time, UTC); `from` / `to`
/// (RFC 3339) bound the opening time. Rates are 0...1, null when nothing is decided yet.
public struct ServiceLevelReport: Sendable, Codable {
    public enum Dimension: String, Sendable, Codable, CaseIterable {
        case serviceType, priority, contractPackage, period
    }

    public struct Percentiles: Sendable, Codable {
        public var p50: Double?
        public var p90: Double?
        public var p95: Double?
        public var max: Double?
    }

    public struct Group: Sendable, Codable {
        public var key: [String: String]
        public var tickets: Int
        public var backlog: Int
        /// Share of tickets whose response clock is decided (stopped or breached) that met it.
        public var slaResponseAttainment: Double?
        public var slaResolutionAttainment: Double?
        public var slaResponseDecided: Int
        public var slaResolutionDecided: Int
        /// Business seconds to the first response (acknowledgement or resolution), nearest-rank percentiles.
        public var responseTimeSeconds: Percentiles
        public var resolved: Int
        /// Reopened tickets among the resolved or reopened ones.
        public var reopenRate: Double?
        /// Resolved by the tier that took them, without escalation or reopen, among the resolved.
        public var firstContactResolution: Double?
        /// Mean wall-clock time from opening to (last) resolution.
        public var mttrSeconds: Double?
    }

    public struct OLAGroup: Sendable, Codable {
        public var key: [String: String]
        public var tier: String
        public var stints: Int
        public var decided: Int
        public var onTime: Int
        public var onTimeRate: Double?
    }

    public var groupBy: [Dimension]
    public var period: String
    public var from: Date?
    public var to: Date?
    public var groups: [Group]
    public var ola: [OLAGroup]
    /// How many events the router had emitted on `itr.events` when these figures were read (same
    /// snapshot): the figures are those of the router's first `eventsEmitted` events, in the
    /// order it published them, so a consumer of `itr.events` can check them against the stream.
    public var eventsEmitted: Int

    public struct BadQuery: Error, CustomStringConvertible {
        public var description: String
    }

    static func expression(_ dimension: Dimension, period: String, table: String, dialect: SQLDialect) -> String {
        switch dimension {
        case .serviceType: return "COALESCE(\(table)service_type, 'unclassified')"
        case .priority: return "COALESCE(\(table)priority, 'none')"
        case .contractPackage: return "COALESCE(\(table)contract_package, 'none')"
        case .period:
            switch dialect {
            case .sqlite:
                let format = period == "day" ? "%Y-%m-%d" : period == "week" ? "%Y-W%W" : "%Y-%m"
                return "strftime('\(format)', \(table)opened_at, 'unixepoch')"
            case .postgres:
                // The same labels as SQLite's strftime: UTC; `%W` is the week of the year with
                // the first Monday starting week 01 (the days before it are week 00).
                let at = "(to_timestamp(\(table)opened_at) AT TIME ZONE 'UTC')"
                switch period {
                case "day": return "to_char(\(at), 'YYYY-MM-DD')"
                case "week":
                    return "to_char(\(at), 'YYYY') || '-W' || lpad(((extract(doy FROM \(at))::int + 6 - ((extract(dow FROM \(at))::int + 6) % 7)) / 7)::text, 2, '0')"
                default: return "to_char(\(at), 'YYYY-MM')"
                }
            }
        }
    }

    public static func compute(
        _ db: any SQLTransaction, groupBy: [Dimension], period: String = "month", from: Date? = nil, to: Date? = nil
    ) throws -> ServiceLevelReport {
        guard ["day", "week", "month"].contains(period) else {
            throw BadQuery(description: "period must be day, week or month, got \"\(period)\"")
        }
        func dims(_ table: String) -> [String] {
            groupBy.map { expression($0, period: period, table: table, dialect: db.dialect) }
        }
        var arguments: [SQLValue] = []
        func bounded(_ table: String) -> String {
            var clause = "1 = 1"
            if from != nil { clause += " AND \(table)opened_at >= ?" }
            if to != nil { clause += " AND \(table)opened_at < ?" }
            return clause
        }
        if let from { arguments.append(from.sqlValue) }
        if let to { arguments.append(to.sqlValue) }
        let filter = bounded("")
        let n = groupBy.count
        let selectDims = dims("").enumerated().map { "\($1) AS d\($0)" }
        let groupClause = groupBy.isEmpty ? "" : "GROUP BY " + (0..<n).map { "d\($0)" }.joined(separator: ", ")
        let orderClause = groupBy.isEmpty ? "" : "ORDER BY " + (0..<n).map { "d\($0)" }.joined(separator: ", ")
        // The group's key: the first `n` columns of every query below.
        func key(_ row: SQLRow) -> [String: String] {
            var key: [String: String] = [:]
            for (index, dimension) in groupBy.enumerated() { key[dimension.rawValue] = row[index].string }
            return key
        }
        func count(_ row: SQLRow, _ column: Int) -> Int { row[n + column].int64.map(Int.init) ?? 0 }
        func rate(_ part: Int, _ whole: Int) -> Double? { whole > 0 ? Double(part) / Double(whole) : nil }

        // Counts by `COUNT(*) FILTER (WHERE ...)`: the same on both engines (PostgreSQL has no
        // SUM of a comparison).
        let main = try db.fetch(
            """
            SELECT \((selectDims + [""]).joined(separator: ", "))
                COUNT(*),
                COUNT(*) FILTER (WHERE state NOT IN ('resolved', 'closed', 'cancelled', 'merged')),
                COUNT(*) FILTER (WHERE response_met = 1), COUNT(*) FILTER (WHERE response_met IS NOT NULL),
                COUNT(*) FILTER (WHERE resolution_met = 1), COUNT(*) FILTER (WHERE resolution_met IS NOT NULL),
                COUNT(*) FILTER (WHERE state IN ('resolved', 'closed')),
                COUNT(*) FILTER (WHERE reopen_count > 0),
                COUNT(*) FILTER (WHERE state IN ('resolved', 'closed') OR reopen_count > 0),
                COUNT(*) FILTER (WHERE state IN ('resolved', 'closed') AND escalation_count = 0 AND reopen_count = 0
                    AND tier = first_tier),
                AVG(CASE WHEN state IN ('resolved', 'closed') THEN resolved_at - opened_at END)
            FROM tickets WHERE \(filter) \(groupClause) \(orderClause)
            """,
            arguments)
        let partition = groupBy.isEmpty ? "" : "PARTITION BY " + dims("").joined(separator: ", ")
        let percentileRows = try db.fetch(
            """
            WITH r AS (
                SELECT \((selectDims + [""]).joined(separator: ", ")) response_seconds AS v,
                    CUME_DIST() OVER (\(partition) ORDER BY response_seconds) AS pr
                FROM tickets WHERE response_seconds IS NOT NULL AND \(filter))
            SELECT \(((0..<n).map { "d\($0)" } + [""]).joined(separator: ", "))
                MIN(v) FILTER (WHERE pr >= 0.5), MIN(v) FILTER (WHERE pr >= 0.9),
                MIN(v) FILTER (WHERE pr >= 0.95), MAX(v)
            FROM r \(groupClause)
            """,
            arguments)
        var percentiles: [[String: String]: Percentiles] = [:]
        for row in percentileRows {
            percentiles[key(row)] = Percentiles(
                p50: row[n].double, p90: row[n + 1].double, p95: row[n + 2].double, max: row[n + 3].double)
        }
        let groups = main.compactMap { row -> Group? in
            let tickets = count(row, 0)
            guard tickets > 0 else { return nil }
            let responseDecided = count(row, 3)
            let resolutionDecided = count(row, 5)
            let resolved = count(row, 6)
            return Group(
                key: key(row), tickets: tickets, backlog: count(row, 1),
                slaResponseAttainment: rate(count(row, 2), responseDecided),
                slaResolutionAttainment: rate(count(row, 4), resolutionDecided),
                slaResponseDecided: responseDecided, slaResolutionDecided: resolutionDecided,
                responseTimeSeconds: percentiles[key(row)] ?? Percentiles(), resolved: resolved,
                reopenRate: rate(count(row, 7), count(row, 8)),
                firstContactResolution: rate(count(row, 9), resolved), mttrSeconds: row[n + 10].double)
        }

        let olaDims = dims("t.").enumerated().map { "\($1) AS d\($0)" }
        let olaRows = try db.fetch(
            """
            SELECT \((olaDims + [""]).joined(separator: ", ")) o.tier, COUNT(*),
                COUNT(*) FILTER (WHERE o.met IS NOT NULL), COUNT(*) FILTER (WHERE o.met = 1)
            FROM ola_stints o JOIN tickets t ON t.id = o.ticket_id
            WHERE \(bounded("t."))
            GROUP BY \(((0..<n).map { "d\($0)" } + ["o.tier"]).joined(separator: ", "))
            ORDER BY \(((0..<n).map { "d\($0)" } + ["o.tier"]).joined(separator: ", "))
            """,
            arguments)
        let ola = olaRows.map { row in
            let decided = count(row, 2)
            let onTime = count(row, 3)
            return OLAGroup(
                key: key(row), tier: row[n].string ?? "", stints: count(row, 1), decided: decided, onTime: onTime,
                onTimeRate: rate(onTime, decided))
        }
        // One counter row per instance on a shared database (`RouterEngine.emittedKey`).
        let emitted = try db.fetchOne(
            "SELECT COALESCE(SUM(value), 0) FROM router_counters WHERE key = 'events_emitted' OR key LIKE 'events_emitted@%'",
            [])?[0].int64 ?? 0
        return ServiceLevelReport(
            groupBy: groupBy, period: period, from: from, to: to, groups: groups, ola: ola, eventsEmitted: Int(emitted))
    }
}
