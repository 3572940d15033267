/// Why bytes could not be turned into a ``CloudEvent`` (or an event could not be written).
///
/// One error type for every codec; `attribute` names the CloudEvents attribute (or header)
/// at fault when there is one, and the message always names it too.
public struct CloudEventError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable, machine-readable reason.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A required attribute (`id`, `source`, `type`, `specversion`) is absent.
        public static let missingAttribute = Code(rawValue: "missing-attribute")
        /// An attribute is present but its value is not acceptable (empty, not a string, ...).
        public static let invalidAttribute = Code(rawValue: "invalid-attribute")
        /// `specversion` is not `1.0`.
        public static let unsupportedSpecVersion = Code(rawValue: "unsupported-specversion")
        /// An extension name is not 1-64 characters of lowercase a-z and 0-9, or is reserved.
        public static let invalidExtensionName = Code(rawValue: "invalid-extension-name")
        /// An attribute's value is longer than ``CloudEventLimits`` allows for it.
        public static let attributeTooLong = Code(rawValue: "attribute-too-long")
        /// One attribute is given twice with different values (under two header prefixes, as
        /// two HTTP fields, as both the content type and `datacontenttype`, or as a header beside
        /// a structured event that has it too).
        public static let conflictingAttribute = Code(rawValue: "conflicting-attribute")
        /// More extension attributes than ``CloudEventLimits/maxExtensions``.
        public static let tooManyExtensions = Code(rawValue: "too-many-extensions")
        /// A JSON object (the structured event, a batch element or inside `data`) names a member twice.
        public static let duplicateKey = Code(rawValue: "duplicate-key")
        /// JSON arrays and objects nested deeper than ``CloudEventLimits/maxJSONDepth``.
        public static let tooDeep = Code(rawValue: "too-deep")
        /// `time` is not an RFC 3339 timestamp.
        public static let invalidTime = Code(rawValue: "invalid-time")
        /// The structured-mode body (or batch) is not well-formed JSON (RFC 8259, UTF-8) of the right shape.
        public static let malformedJSON = Code(rawValue: "malformed-json")
        /// `data_base64` is not valid base64.
        public static let invalidBase64 = Code(rawValue: "invalid-base64")
        /// The message carries no CloudEvents attributes and is not in structured mode.
        public static let notACloudEvent = Code(rawValue: "not-a-cloudevent")
        /// The content type is a CloudEvents format this codec does not read (e.g. XML).
        public static let unsupportedFormat = Code(rawValue: "unsupported-format")
        /// The event has no data, or its data could not be decoded into the requested type.
        public static let invalidData = Code(rawValue: "invalid-data")
        /// The body exceeds the configured size limit.
        public static let tooLarge = Code(rawValue: "too-large")
    }

    public var code: Code
    public var message: String
    /// The attribute (or header) at fault, when there is one.
    public var attribute: String?

    public init(_ code: Code, _ message: String, attribute: String? = nil) {
        self.code = code
        self.message = message
        self.attribute = attribute
    }

    public var description: String { "\(code): \(message)" }

    /// At most `max` characters of `text` (input quoted in a message: a reason stays one line
    /// however long the input).
    static func excerpt(_ text: String, max: Int = 64) -> String {
        if text.utf8.count <= max { return text }
        let head = text.prefix(max)
        return head.endIndex == text.endIndex ? text : String(head) + "…"
    }

    static func missing(_ attribute: String) -> CloudEventError {
        CloudEventError(.missingAttribute, "required attribute '\(attribute)' is missing", attribute: attribute)
    }

    /// The attribute's name may come from a header of any length: messages and `attribute` hold
    /// at most its first 64 characters (no valid name is longer), so a reason stays a line.
    static func invalid(_ attribute: String, _ why: String) -> CloudEventError {
        let name = excerpt(attribute)
        return CloudEventError(.invalidAttribute, "attribute '\(name)' \(why)", attribute: name)
    }

    /// Attribute `attribute` given twice with different values (each quoted in part).
    static func conflicting(_ attribute: String, _ first: String, _ second: String) -> CloudEventError {
        let name = excerpt(attribute)
        return CloudEventError(
            .conflictingAttribute,
            "attribute '\(name)' is given twice with different values ('\(excerpt(first))' and '\(excerpt(second))')",
            attribute: name)
    }

    /// A JSON text that the strict scanner refused; `what` names the text (`structured event`, `batch`).
    init(_ failure: JSONScanner.Failure, in what: String) {
        switch failure.kind {
        case .duplicateKey: self.init(.duplicateKey, "\(what): \(failure)")
        case .tooDeep: self.init(.tooDeep, "\(what): \(failure)")
        case .malformed, .invalidUTF8: self.init(.malformedJSON, "\(what) is not well-formed JSON (\(failure))")
        }
    }
}
