import ITREvents

/// Why a report (or anything else arriving at intake) was not accepted: a stable reason code,
/// a message naming every problem, and the problems with their field paths.
public struct ReportRejection: Error, Sendable, Hashable, CustomStringConvertible {
    /// Stable reason codes (the `x-itr-reason-code` header, the `reasonCode` of
    /// `itr.report.rejected`, the `reason` label of the rejection metric).
    public enum Reason {
        /// Not a CloudEvent, or its envelope is broken (missing id/source/type, bad specversion, an
        /// attribute too long or given twice with different values, ...: the message starts with the
        /// codec's code, e.g. `attribute-too-long`, `conflicting-attribute`, `duplicate-key`).
        public static let malformedEvent = "malformed-event"
        /// A CloudEvent of a type intake does not take.
        public static let unknownType = "unknown-type"
        /// Body or data over the size limit.
        public static let tooLarge = "too-large"
        /// The data is not valid UTF-8.
        public static let invalidUTF8 = "invalid-utf8"
        /// The data is not well-formed JSON (or not JSON at all, names a member twice, nests too deep).
        public static let malformedData = "malformed-data"
        /// The data breaks the report schema (see the problems).
        public static let validationFailed = "validation-failed"
        /// The token may not submit events with this source.
        public static let unauthorizedSource = "unauthorized-source"
    }

    public var reasonCode: String
    public var message: String
    public var problems: [ValidationProblem]

    public init(_ reasonCode: String, _ message: String, problems: [ValidationProblem] = []) {
        self.reasonCode = reasonCode
        self.message = message
        self.problems = problems
    }

    /// From problems found in the event: the reason follows the most basic problem.
    public init(problems: [ValidationProblem]) {
        let codes = Set(problems.map(\.code))
        let reason: String
        if codes.contains(.invalidUTF8) {
            reason = Reason.invalidUTF8
        } else if codes.contains(.malformedJSON) || codes.contains(.duplicateKey) || codes.contains(.tooDeep) {
            reason = Reason.malformedData
        } else if codes.contains(.tooLarge) {
            reason = Reason.tooLarge
        } else {
            reason = Reason.validationFailed
        }
        let listed = ValidationFailure(problems).description
        self.init(reason, "\(problems.count) problem\(problems.count == 1 ? "" : "s"): \(listed)", problems: problems)
    }

    /// From a codec error (the envelope could not be read).
    public init(_ error: CloudEventError) {
        let reason = error.code == .tooLarge ? Reason.tooLarge : Reason.malformedEvent
        let path = error.attribute ?? ""
        let code: ValidationProblem.Code = switch error.code {
        case .missingAttribute: .missing
        case .malformedJSON: .malformedJSON
        case .tooLarge: .tooLarge
        case .attributeTooLong: .tooLong
        case .conflictingAttribute: .inconsistent
        case .tooManyExtensions: .tooMany
        case .duplicateKey: .duplicateKey
        case .tooDeep: .tooDeep
        default: .invalidFormat
        }
        self.init(reason, "\(error.code): \(error.message)", problems: [ValidationProblem(path: path, code: code, message: error.message)])
    }

    public var description: String { "\(reasonCode): \(message)" }
}
