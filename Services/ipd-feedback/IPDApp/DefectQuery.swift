import Foundation
import GRDB
import ITREvents
import ServiceKit

/// `GET /v1/defects`: filters, order (impact score, highest first) and paging.
///
/// Query parameters: `product` (product line, case-insensitive), `version` (an affected
/// version), `status` (`reported`, `accepted`, `rejected`, `duplicate`, `fix-released`, or
/// `pending` for defects still below the report threshold; default: every reported defect),
/// `from` / `to` (RFC 3339: defects seen in that period), `limit` (1-500, default 50), `offset`.
public struct DefectQuery: Sendable, Hashable {
    public var product: String?
    public var version: String?
    public var status: String?
    public var from: Date?
    public var to: Date?
    public var limit = 50
    public var offset = 0

    public init(
        product: String? = nil, version: String? = nil, status: String? = nil, from: Date? = nil, to: Date? = nil,
        limit: Int = 50, offset: Int = 0
    ) {
        self.product = product
        self.version = version
        self.status = status
        self.from = from
        self.to = to
        self.limit = limit
        self.offset = offset
    }

    /// Parses the query parameters; every problem is reported at once.
    public init(parameters: [String: String]) throws(ProblemDetails) {
        var problems: [ProblemDetails.Problem] = []
        product = parameters["product"].flatMap { $0.isEmpty ? nil : $0 }
        version = parameters["version"].flatMap { $0.isEmpty ? nil : $0 }
        if let status = parameters["status"], !status.isEmpty {
            if status != "pending", DefectState(rawValue: status) == nil {
                problems.append(.init(
                    path: "status", code: "unknown-value",
                    message: "expected pending, \(DefectState.allCases.map(\.rawValue).joined(separator: ", "))"))
            }
            self.status = status
        }
        for (name, keyPath) in [("from", \DefectQuery.from), ("to", \DefectQuery.to)] {
            guard let text = parameters[name], !text.isEmpty else { continue }
            if let date = RFC3339.parse(text) { self[keyPath: keyPath] = date } else {
                problems.append(.init(path: name, code: "invalid-format", message: "expected an RFC 3339 time"))
            }
        }
        if let text = parameters["limit"] {
            if let value = Int(text), (1...500).contains(value) { limit = value } else {
                problems.append(.init(path: "limit", code: "out-of-range", message: "expected 1...500"))
            }
        }
        if let text = parameters["offset"] {
            if let value = Int(text), value >= 0 { offset = value } else {
                problems.append(.init(path: "offset", code: "out-of-range", message: "expected a whole number >= 0"))
            }
        }
        if !problems.isEmpty { throw .badRequest("invalid query parameters", problems: problems) }
    }

    /// One page of defects with the total count.
    public func run(_ db: some SQLTransaction, rules: IPDRules, now: Date = Date()) throws -> DefectPage {
        var conditions: [String] = []
        var arguments: [SQLValue] = []
        if status == "pending" {
            conditions.append("reported = 0")
        } else {
            conditions.append("reported = 1")
            if let status {
                conditions.append("status = ?")
                arguments.append(.text(status))
            }
        }
        if let product {
            conditions.append("lower(product_line) = lower(?)")
            arguments.append(.text(product))
        }
        if let version {
            conditions.append("id IN (SELECT defect_id FROM ipd_defect_versions WHERE version = ?)")
            arguments.append(.text(version))
        }
        if let from {
            conditions.append("last_seen >= ?")
            arguments.append(db.moment(from))
        }
        if let to {
            conditions.append("first_seen <= ?")
            arguments.append(db.moment(to))
        }
        let filter = "WHERE " + conditions.joined(separator: " AND ")
        let total = try db.fetchOne("SELECT COUNT(*) FROM ipd_defects \(filter)", arguments)?.int(0) ?? 0
        let states = try db.fetch(
            "SELECT state FROM ipd_defects \(filter) ORDER BY score DESC, id LIMIT ? OFFSET ?",
            arguments + [.integer(Int64(limit)), .integer(Int64(offset))]
        ).map { try $0.data(0) }
        var defects: [DefectView] = []
        for state in states {
            let defect = try DefectStore.decoder.decode(Defect.self, from: state)
            var problems: [DefectView.ProblemView] = []
            for id in defect.problemIds.sorted() {
                let record = try DefectStore.problem(db, id: id)
                problems.append(.init(
                    problemId: id, title: record?.title, rootCause: record?.rootCause, resolved: record?.resolved ?? false,
                    ticketIds: record?.ticketIds ?? []))
            }
            defects.append(DefectView(
                defect: defect.payload(DefectUpdatedKind.self, weights: rules.score, now: now), reported: defect.isReported,
                problems: problems))
        }
        return DefectPage(total: total, limit: limit, offset: offset, defects: defects)
    }
}

/// A page of `GET /v1/defects`.
public struct DefectPage: Sendable, Codable, Hashable {
    public var total: Int
    public var limit: Int
    public var offset: Int
    public var defects: [DefectView]
}

/// One defect in the API: the feed's snapshot plus its problems in detail.
public struct DefectView: Sendable, Codable, Hashable {
    public struct ProblemView: Sendable, Codable, Hashable {
        public var problemId: String
        public var title: String?
        public var rootCause: String?
        public var resolved: Bool
        public var ticketIds: [String]
    }

    public var defect: DefectUpdated
    public var reported: Bool
    public var problems: [ProblemView]
}
