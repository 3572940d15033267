/// One thing wrong with an event's data, named by its JSON path (`data.product.line`,
/// `data.attachments[2].uri`) and a stable code that clients can act on.
public struct ValidationProblem: Sendable, Hashable, Codable, CustomStringConvertible {
    /// A stable problem code. The set is open; these are the ones this module produces.
    public struct Code: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible,
        ExpressibleByStringLiteral
    {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { self.rawValue = value }
        public init(from decoder: any Decoder) throws {
            rawValue = try decoder.singleValueContainer().decode(String.self)
        }
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(rawValue)
        }
        public var description: String { rawValue }

        /// A required field is absent or null.
        public static let missing: Code = "missing"
        /// A field has the wrong JSON type (a number where a string belongs, ...).
        public static let wrongType: Code = "wrong-type"
        /// A string is not one of the allowed values of an enumeration.
        public static let unknownValue: Code = "unknown-value"
        /// A string is empty where a value is required.
        public static let empty: Code = "empty"
        /// A string is longer than its limit.
        public static let tooLong: Code = "too-long"
        /// A list has more elements than its limit.
        public static let tooMany: Code = "too-many"
        /// The whole body (or data) is larger than its limit.
        public static let tooLarge: Code = "too-large"
        /// Bytes are not valid UTF-8.
        public static let invalidUTF8: Code = "invalid-utf8"
        /// Not well-formed JSON (strict RFC 8259).
        public static let malformedJSON: Code = "malformed-json"
        /// A JSON object names one member twice.
        public static let duplicateKey: Code = "duplicate-key"
        /// JSON arrays and objects nested deeper than ``CloudEventLimits/maxJSONDepth``.
        public static let tooDeep: Code = "too-deep"
        /// A string does not have the required format (timestamp, e-mail, URI, decimal, ...).
        public static let invalidFormat: Code = "invalid-format"
        /// A number is outside its allowed range.
        public static let outOfRange: Code = "out-of-range"
        /// A timestamp lies further in the future than the allowed clock skew.
        public static let futureTimestamp: Code = "future-timestamp"
        /// A timestamp is implausibly old (before the limits' earliest date).
        public static let absurdTimestamp: Code = "absurd-timestamp"
        /// A combination of fields is inconsistent (e.g. an alarm on a non-monitoring report).
        public static let inconsistent: Code = "inconsistent"
    }

    /// JSON path from the event root: `data.customer.account`, `data.attachments[0].uri`, `type`.
    public var path: String
    public var code: Code
    public var message: String

    public init(path: String, code: Code, message: String) {
        self.path = path
        self.code = code
        self.message = message
    }

    /// One line for logs and reason headers: the path and message quoted in part (a path is
    /// made of the input's member names and a message may quote a value, both of any length).
    public var description: String {
        "\(CloudEventError.excerpt(path, max: 128)): \(code) (\(CloudEventError.excerpt(message, max: 256)))"
    }
}

/// The problems that made data unacceptable (the failure side of decoding + validation).
public struct ValidationFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var problems: [ValidationProblem]
    public init(_ problems: [ValidationProblem]) { self.problems = problems }
    /// The first ``listedProblems`` problems, then how many more: it becomes the `x-itr-reason`
    /// header of a rejection, which must stay far below an AMQP frame however bad the input.
    public var description: String {
        let listed = problems.prefix(Self.listedProblems).map(\.description).joined(separator: "; ")
        let more = problems.count - Self.listedProblems
        return more > 0 ? listed + "; and \(more) more" : listed
    }

    /// How many problems ``description`` lists.
    public static let listedProblems = 20
}
