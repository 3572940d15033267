import Foundation

/// Collects ``ValidationProblem``s while a payload checks its fields. Paths are given in full
/// (`data.customer.account`); the helpers only decide the code and message.
public struct Validator: Sendable {
    public let limits: ReportLimits
    public let now: Date
    public private(set) var problems: [ValidationProblem] = []

    public init(limits: ReportLimits = .default, now: Date = Date()) {
        self.limits = limits
        self.now = now
    }

    public mutating func add(_ path: String, _ code: ValidationProblem.Code, _ message: String) {
        problems.append(ValidationProblem(path: path, code: code, message: message))
    }

    /// A required string: non-empty (after trimming) and at most `max` characters
    /// (default: `limits.maxFieldLength`).
    public mutating func required(_ value: String, _ path: String, max: Int? = nil) {
        if value.allSatisfy(\.isWhitespace) {
            add(path, .empty, "must not be empty")
            return
        }
        length(value, path, max: max ?? limits.maxFieldLength)
    }

    /// An optional string: when present, like ``required(_:_:max:)``.
    public mutating func optional(_ value: String?, _ path: String, max: Int? = nil) {
        if let value { required(value, path, max: max) }
    }

    public mutating func length(_ value: String, _ path: String, max: Int) {
        // utf8.count is O(1) for native strings and bounds the character count from above.
        if value.utf8.count > max, value.count > max {
            add(path, .tooLong, "longer than \(max) characters")
        }
    }

    public mutating func list(_ count: Int, _ path: String, max: Int? = nil, nonEmpty: Bool = false) {
        let limit = max ?? limits.maxListLength
        if count > limit { add(path, .tooMany, "more than \(limit) elements") }
        if nonEmpty, count == 0 { add(path, .empty, "must have at least one element") }
    }

    /// Each element of a string list: non-empty and not too long.
    public mutating func strings(_ values: [String], _ path: String, max: Int? = nil, nonEmpty: Bool = false) {
        list(values.count, path, nonEmpty: nonEmpty)
        for (i, v) in values.enumerated() { required(v, "\(path)[\(i)]", max: max) }
    }

    public mutating func time(_ date: Date?, _ path: String) {
        guard let date else { return }
        Self.checkTime(date, at: path, limits: limits, now: now, into: &problems)
    }

    static func checkTime(
        _ date: Date, at path: String, limits: ReportLimits, now: Date, into problems: inout [ValidationProblem]
    ) {
        if date < limits.earliestTimestamp {
            problems.append(
                .init(path: path, code: .absurdTimestamp, message: "before \(RFC3339.format(limits.earliestTimestamp))"))
        } else if date.timeIntervalSince(now) > limits.maxFutureSkew {
            problems.append(
                .init(path: path, code: .futureTimestamp, message: "more than \(Int(limits.maxFutureSkew)) s in the future"))
        }
    }

    public mutating func range<T: Comparable>(_ value: T?, _ path: String, _ bounds: ClosedRange<T>) {
        guard let value else { return }
        if !bounds.contains(value) {
            add(path, .outOfRange, "must be between \(bounds.lowerBound) and \(bounds.upperBound)")
        }
    }

    public mutating func atLeast<T: Comparable>(_ value: T?, _ path: String, _ minimum: T) {
        guard let value else { return }
        if value < minimum { add(path, .outOfRange, "must be at least \(minimum)") }
    }

    /// A loose e-mail check: one `@` with text on both sides and a dot in the domain.
    public mutating func email(_ value: String?, _ path: String) {
        guard let value else { return }
        let parts = value.split(separator: "@", omittingEmptySubsequences: false)
        if parts.count != 2 || parts[0].isEmpty || !parts[1].contains(".") || value.contains(" ") {
            add(path, .invalidFormat, "not an e-mail address")
        }
    }

    /// A URI with a scheme (`https:`, `s3:`, `urn:` ...).
    public mutating func uri(_ value: String, _ path: String) {
        required(value, path, max: limits.maxURILength)
        guard let colon = value.firstIndex(of: ":"), colon != value.startIndex,
            value[..<colon].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) }),
            !value.contains(" ")
        else {
            if !value.isEmpty { add(path, .invalidFormat, "not an absolute URI") }
            return
        }
    }
}
