/// The limits on what a CloudEvent's envelope may hold, in one place. Every codec applies them
/// on read (AMQP binary and structured mode, HTTP binary, structured and batch mode), and each
/// breach has its own ``CloudEventError/Code``. Sizes count bytes of UTF-8, not characters:
/// 255 bytes hold 255 ASCII or 85 Chinese characters.
///
/// | what | limit | why | code |
/// | --- | --- | --- | --- |
/// | `id`, `source`, `type`, `subject`, `specversion` | 255 bytes | the services copy `id` and `type` into AMQP short strings (`message_id`, `type`, at most 255 bytes); `source` + `id` is the inbox key | `attribute-too-long` |
/// | `datacontenttype` | 255 bytes | the AMQP `content_type` property is a short string | `attribute-too-long` |
/// | `dataschema` | 2048 bytes | a URI | `attribute-too-long` |
/// | `time` (as text) | 64 bytes | RFC 3339 with nanoseconds and an offset takes 35 | `attribute-too-long` |
/// | `traceparent` | 256 bytes | W3C version 00 takes 55; later versions may append fields | `attribute-too-long` |
/// | `tracestate` | 2048 bytes | W3C: up to 32 list members; vendors propagate at least 512 | `attribute-too-long` |
/// | any other extension value | 2048 bytes | | `attribute-too-long` |
/// | extension name | 1-64 characters of a-z, 0-9 | CloudEvents asks for at most 20 (SHOULD), but producers such as the Python SDK write longer names, so they are read; `cloudEvents_` + name stays within AMQP's 128-character field names | `invalid-extension-name` |
/// | extensions per event | 64 | | `too-many-extensions` |
/// | JSON nesting (structured event, batch, data) | 64 arrays/objects deep | no stack is ever at risk; real payloads nest 4 deep | `too-deep` |
///
/// Body sizes are ``ReportLimits/maxBodyBytes`` (each service checks them before reading data).
public enum CloudEventLimits {
    /// `id`, `source`, `type`, `subject` and `specversion`, in bytes.
    public static let maxIdentifierBytes = 255
    /// `datacontenttype`, in bytes.
    public static let maxContentTypeBytes = 255
    /// `dataschema`, in bytes.
    public static let maxURIBytes = 2048
    /// `time` as text, in bytes.
    public static let maxTimeBytes = 64
    /// The `traceparent` extension, in bytes.
    public static let maxTraceparentBytes = 256
    /// The `tracestate` extension, in bytes.
    public static let maxTracestateBytes = 2048
    /// Any other extension value, in bytes.
    public static let maxExtensionValueBytes = 2048
    /// The longest extension name, in characters (all ASCII).
    public static let maxExtensionNameLength = 64
    /// The most extension attributes one event may carry.
    public static let maxExtensions = 64
    /// The deepest nesting of JSON arrays and objects (the document's own container counts 1).
    public static let maxJSONDepth = 64

    /// The longest value, in bytes of UTF-8, that attribute `name` (a context attribute or an extension) may have.
    public static func maxBytes(ofAttribute name: String) -> Int {
        switch name {
        case "id", "source", "type", "subject", "specversion": maxIdentifierBytes
        case "datacontenttype": maxContentTypeBytes
        case "dataschema": maxURIBytes
        case "time": maxTimeBytes
        case CloudEvent.Extension.traceparent: maxTraceparentBytes
        case CloudEvent.Extension.tracestate: maxTracestateBytes
        default: maxExtensionValueBytes
        }
    }

    /// Throws `attribute-too-long` when `value` is longer than attribute `name` may be.
    /// `header` names the binding's header the value came from, for the message.
    public static func check(_ name: String, _ value: String, header: String? = nil) throws(CloudEventError) {
        let max = maxBytes(ofAttribute: name)
        let length = value.utf8.count
        guard length > max else { return }
        let origin = header.map { " (header '\(CloudEventError.excerpt($0))')" } ?? ""
        throw CloudEventError(
            .attributeTooLong, "attribute '\(CloudEventError.excerpt(name))'\(origin) is \(length) bytes long, more than \(max)",
            attribute: CloudEventError.excerpt(name))
    }
}
