import Foundation
import GRDB

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

    static func expression(_ dimension: Dimension, period: String, table: String) -> String {
        switch dimension {
        case .serviceType: return "COALESCE(\(table)service_type, 'unclassified')"
        case .priority: return "COALESCE(\(table)priority, 'none')"
        case .contractPackage: return "COALESCE(\(table)contract_package, 'none')"
        case .period:
            let format = period == "day" ? "%Y-%m-%d" : period == "week" ? "%Y-W%W" : "%Y-%m"
            return "strftime('\(format)', \(table)opened_at, 'unixepoch')"
        }
    }

    public static func compute(
        _ db: Database, groupBy: [Dimension], period: String = "month", from: Date? = nil, to: Date? = nil
    ) throws -> ServiceLevelReport {
        guard ["day", "week", "month"].contains(period) else {
            throw BadQuery(description: "period must be day, week or month, got \"\(period)\"")
        }
        func dims(_ table: String) -> [String] { groupBy.map { expression($0, period: period, table: table) } }
        var arguments: [any DatabaseValueConvertible] = []
        func bounded(_ table: String) -> String {
            var clause = "1 = 1"
            if from != nil { clause += " AND \(table)opened_at >= ?" }
            if to != nil { clause += " AND \(table)opened_at < ?" }
            return clause
        }
        if let from { arguments.append(from.timeIntervalSince1970) }
        if let to { arguments.append(to.timeIntervalSince1970) }
        let filter = bounded("")
        let selectDims = dims("").enumerated().map { "\($1) AS d\($0)" }
        let groupClause = groupBy.isEmpty ? "" : "GROUP BY " + (0..<groupBy.count).map { "d\($0)" }.joined(separator: ", ")
        let orderClause = groupBy.isEmpty ? "" : "ORDER BY " + (0..<groupBy.count).map { "d\($0)" }.joined(separator: ", ")
        func key(_ row: Row) -> [String: String] {
            var key: [String: String] = [:]
            for (index, dimension) in groupBy.enumerated() { key[dimension.rawValue] = row["d\(index)"] }
            return key
        }
        func rate(_ part: Int, _ whole: Int) -> Double? { whole > 0 ? Double(part) / Double(whole) : nil }

        let main = try Row.fetchAll(
            db,
            sql: """
                SELECT \((selectDims + [""]).joined(separator: ", "))
                    COUNT(*) AS tickets,
                    SUM(state NOT IN ('resolved', 'closed', 'cancelled', 'merged')) AS backlog,
                    SUM(response_met = 1) AS response_met, SUM(response_met IS NOT NULL) AS response_decided,
                    SUM(resolution_met = 1) AS resolution_met, SUM(resolution_met IS NOT NULL) AS resolution_decided,
                    SUM(state IN ('resolved', 'closed')) AS resolved,
                    SUM(reopen_count > 0) AS reopened,
                    SUM(state IN ('resolved', 'closed') OR reopen_count > 0) AS reopen_base,
                    SUM(state IN ('resolved', 'closed') AND escalation_count = 0 AND reopen_count = 0
                        AND tier = first_tier) AS first_contact,
                    AVG(CASE WHEN state IN ('resolved', 'closed') THEN resolved_at - opened_at END) AS mttr
                FROM tickets WHERE \(filter) \(groupClause) \(orderClause)
                """,
            arguments: StatementArguments(arguments))
        let partition = groupBy.isEmpty ? "" : "PARTITION BY " + dims("").joined(separator: ", ")
        let percentileRows = try Row.fetchAll(
            db,
            sql: """
                WITH r AS (
                    SELECT \((selectDims + [""]).joined(separator: ", ")) response_seconds AS v,
                        CUME_DIST() OVER (\(partition) ORDER BY response_seconds) AS pr
                    FROM tickets WHERE response_seconds IS NOT NULL AND \(filter))
                SELECT \(((0..<groupBy.count).map { "d\($0)" } + [""]).joined(separator: ", "))
                    MIN(v) FILTER (WHERE pr >= 0.5) AS p50, MIN(v) FILTER (WHERE pr >= 0.9) AS p90,
                    MIN(v) FILTER (WHERE pr >= 0.95) AS p95, MAX(v) AS pmax
                FROM r \(groupClause)
                """,
            arguments: StatementArguments(arguments))
        var percentiles: [[String: String]: Percentiles] = [:]
        for row in percentileRows {
            percentiles[key(row)] = Percentiles(p50: row["p50"], p90: row["p90"], p95: row["p95"], max: row["pmax"])
        }
        let groups = main.compactMap { row -> Group? in
            let tickets: Int = row["tickets"]
            guard tickets > 0 else { return nil }
            let responseDecided: Int = row["response_decided"] ?? 0
            let resolutionDecided: Int = row["resolution_decided"] ?? 0
            let resolved: Int = row["resolved"] ?? 0
            return Group(
                key: key(row), tickets: tickets, backlog: row["backlog"] ?? 0,
                slaResponseAttainment: rate(row["response_met"] ?? 0, responseDecided),
                slaResolutionAttainment: rate(row["resolution_met"] ?? 0, resolutionDecided),
                slaResponseDecided: responseDecided, slaResolutionDecided: resolutionDecided,
                responseTimeSeconds: percentiles[key(row)] ?? Percentiles(), resolved: resolved,
                reopenRate: rate(row["reopened"] ?? 0, row["reopen_base"] ?? 0),
                firstContactResolution: rate(row["first_contact"] ?? 0, resolved), mttrSeconds: row["mttr"])
        }

        let olaDims = dims("t.").enumerated().map { "\($1) AS d\($0)" }
        let olaRows = try Row.fetchAll(
            db,
            sql: """
                SELECT \((olaDims + [""]).joined(separator: ", ")) o.tier AS tier, COUNT(*) AS stints,
                    SUM(o.met IS NOT NULL) AS decided, SUM(o.met = 1) AS on_time
                FROM ola_stints o JOIN tickets t ON t.id = o.ticket_id
                WHERE \(bounded("t."))
                GROUP BY \(((0..<groupBy.count).map { "d\($0)" } + ["o.tier"]).joined(separator: ", "))
                ORDER BY \(((0..<groupBy.count).map { "d\($0)" } + ["o.tier"]).joined(separator: ", "))
                """,
            arguments: StatementArguments(arguments))
        let ola = olaRows.map { row in
            let decided: Int = row["decided"] ?? 0
            let onTime: Int = row["on_time"] ?? 0
            return OLAGroup(
                key: key(row), tier: row["tier"], stints: row["stints"], decided: decided, onTime: onTime,
                onTimeRate: rate(onTime, decided))
        }
        let emitted = try Int.fetchOne(db, sql: "SELECT value FROM router_counters WHERE key = 'events_emitted'") ?? 0
        return ServiceLevelReport(
            groupBy: groupBy, period: period, from: from, to: to, groups: groups, ola: ola, eventsEmitted: emitted)
    }
}
