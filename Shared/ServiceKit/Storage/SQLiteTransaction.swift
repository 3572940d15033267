import Foundation
import GRDB

/// GRDB's database connection is an ``SQLTransaction`` as it is: code written against the
/// protocol runs inside `pool.write { db in ... }` unchanged. Statements are cached per
/// connection (they are the same few on the hot path).
extension Database: SQLTransaction {
    public var dialect: SQLDialect { .sqlite }

    @discardableResult
    public func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
        try cachedStatement(sql: sql).execute(arguments: StatementArguments(arguments.map(\.databaseValue)))
        return changesCount
    }

    public func insert(_ sql: String, _ arguments: [SQLValue], returning column: String) throws -> Int64 {
        try execute(sql, arguments)
        return lastInsertedRowID
    }

    public func fetch(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        let statement = try cachedStatement(sql: sql)
        return try Row.fetchAll(statement, arguments: StatementArguments(arguments.map(\.databaseValue))).map { row in
            SQLRow(row.databaseValues.map(SQLValue.init))
        }
    }
}

extension SQLValue {
    var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case .integer(let v): v.databaseValue
        case .real(let v): v.databaseValue
        case .text(let v): v.databaseValue
        case .blob(let v): v.databaseValue
        }
    }

    init(_ value: DatabaseValue) {
        switch value.storage {
        case .null: self = .null
        case .int64(let v): self = .integer(v)
        case .double(let v): self = .real(v)
        case .string(let v): self = .text(v)
        case .blob(let v): self = .blob(v)
        }
    }
}

/// GRDB's text form of a date (`yyyy-MM-dd HH:mm:ss.SSS`, UTC): how SQLite columns written
/// through GRDB hold moments.
enum SQLDateText {
    static func format(_ date: Date) -> String { String.fromDatabaseValue(date.databaseValue) ?? "" }
}
