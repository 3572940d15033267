import Foundation

/// What AMQP 0-9-1 and the connection can carry, so that a message is checked before it is
/// handed to librabbitmq instead of failing inside `basic.publish`.
///
/// librabbitmq encodes a publish as three pieces: the `basic.publish` method frame (exchange
/// and routing key are short strings), the content header frame (every property, the header
/// table included, in one frame of at most `frame_max` bytes) and the body frames. A short
/// string longer than 255 bytes or a header frame over `frame_max` is refused by the library
/// with "invalid AMQP data" / "table too large", possibly after the method frame already
/// left, which breaks the connection for everything else. ``AMQPWire/check(_:exchange:routingKey:limits:)``
/// finds such a message first, exactly, so that it fails alone with `.unencodable`.
public struct AMQPMessageLimits: Sendable, Hashable {
    /// AMQP short strings (exchange, routing key, header keys, string properties).
    public static let shortStringMaximum = 255
    /// The negotiated `frame_max` (the content header frame must fit in one frame).
    public var frameMax: Int
    /// Largest encoded content header (all properties with the header table), well under
    /// `frameMax` so that nothing a service adds can push it over.
    public var maximumHeaderBytes: Int
    /// Largest body: the broker's `max_message_size`.
    public var maximumBodyBytes: Int
    /// Deepest nesting of tables and arrays in the headers (a cap, read and written alike).
    public var maximumTableDepth: Int

    /// The default `max_message_size` this project configures on its brokers (16 MiB).
    public static let defaultMaximumBodyBytes = 16 << 20
    public static let defaultMaximumTableDepth = 16

    public init(
        frameMax: Int = 131_072, maximumHeaderBytes: Int? = nil, maximumBodyBytes: Int = Self.defaultMaximumBodyBytes,
        maximumTableDepth: Int = Self.defaultMaximumTableDepth
    ) {
        self.frameMax = frameMax
        // Frame overhead: 7 bytes of frame header, 1 frame-end byte, 14 bytes of class, weight,
        // body size and property flags. Half the frame leaves room for what is added later.
        self.maximumHeaderBytes = min(maximumHeaderBytes ?? Int.max, max(512, (frameMax - 22) / 2))
        self.maximumBodyBytes = maximumBodyBytes
        self.maximumTableDepth = maximumTableDepth
    }
}

/// Encoded sizes of AMQP 0-9-1 values, the pre-publish check and the fitting of messages
/// whose content may be cut (copies of outside input).
public enum AMQPWire {
    /// The names of the short-string properties with their values.
    static func shortStringProperties(_ p: AMQPProperties) -> [(name: String, value: String)] {
        var out: [(String, String)] = []
        if let v = p.contentType { out.append(("content_type", v)) }
        if let v = p.contentEncoding { out.append(("content_encoding", v)) }
        if let v = p.correlationID { out.append(("correlation_id", v)) }
        if let v = p.replyTo { out.append(("reply_to", v)) }
        if let v = p.expiration { out.append(("expiration", v)) }
        if let v = p.messageID { out.append(("message_id", v)) }
        if let v = p.type { out.append(("type", v)) }
        if let v = p.userID { out.append(("user_id", v)) }
        if let v = p.appID { out.append(("app_id", v)) }
        return out
    }

    /// The encoded size of a field table (without its 4-byte length prefix), or nil when it
    /// nests deeper than `maximumDepth`.
    public static func encodedSize(of table: AMQPTable, maximumDepth: Int) -> Int? {
        encodedSize(table, depth: 1, maximumDepth: maximumDepth)
    }

    private static func encodedSize(_ table: AMQPTable, depth: Int, maximumDepth: Int) -> Int? {
        guard depth <= maximumDepth else { return nil }
        var size = 0
        for (key, value) in table {
            guard let v = encodedSize(value, depth: depth, maximumDepth: maximumDepth) else { return nil }
            size += 1 + key.utf8.count + v
        }
        return size
    }

    /// Kind byte plus value.
    private static func encodedSize(_ value: AMQPFieldValue, depth: Int, maximumDepth: Int) -> Int? {
        switch value {
        case .bool, .int8, .uint8: return 2
        case .int16, .uint16: return 3
        case .int32, .uint32, .float: return 5
        case .int64, .double, .timestamp: return 9
        case .decimal: return 6
        case .string(let s): return 5 + s.utf8.count
        case .bytes(let b): return 5 + b.count
        case .void: return 1
        case .table(let t):
            guard let inner = encodedSize(t, depth: depth + 1, maximumDepth: maximumDepth) else { return nil }
            return 5 + inner
        case .array(let values):
            guard depth + 1 <= maximumDepth else { return nil }
            var size = 5
            for v in values {
                guard let s = encodedSize(v, depth: depth + 1, maximumDepth: maximumDepth) else { return nil }
                size += s
            }
            return size
        }
    }

    /// Checks everything AMQP 0-9-1 and `limits` require of a publish; the error says which
    /// field and why (code `.unencodable`).
    public static func check(
        _ message: AMQPMessage, exchange: String, routingKey: String, limits: AMQPMessageLimits
    ) throws(AMQPError) {
        func refuse(_ why: String) -> AMQPError { AMQPError(.unencodable, why) }
        let short = AMQPMessageLimits.shortStringMaximum
        if exchange.utf8.count > short {
            throw refuse("exchange name is \(exchange.utf8.count) bytes (AMQP short strings hold at most \(short))")
        }
        if routingKey.utf8.count > short {
            throw refuse("routing key is \(routingKey.utf8.count) bytes (AMQP short strings hold at most \(short))")
        }
        var headerBytes = 14
        for (name, value) in shortStringProperties(message.properties) {
            let n = value.utf8.count
            if n > short { throw refuse("property \(name) is \(n) bytes (AMQP short strings hold at most \(short))") }
            headerBytes += 1 + n
        }
        let headers = message.properties.headers
        if !headers.isEmpty {
            if let long = headers.keys.first(where: { $0.utf8.count > short }) {
                throw refuse("header name '\(long.prefix(40))…' is \(long.utf8.count) bytes (at most \(short))")
            }
            guard let size = encodedSize(of: headers, maximumDepth: limits.maximumTableDepth) else {
                throw refuse("headers nest deeper than \(limits.maximumTableDepth) tables or arrays")
            }
            if let nested = firstLongKey(headers, limit: short, depth: 1, maximumDepth: limits.maximumTableDepth) {
                throw refuse("a nested header table has a \(nested)-byte key (at most \(short))")
            }
            headerBytes += 4 + size
        }
        // delivery_mode, priority (1 byte each) and timestamp (8) are fixed-size.
        headerBytes += 10
        if headerBytes > limits.maximumHeaderBytes {
            throw refuse("the content header (properties and headers) is \(headerBytes) bytes, over the limit of \(limits.maximumHeaderBytes) (frame_max \(limits.frameMax))")
        }
        if message.body.count > limits.maximumBodyBytes {
            throw refuse("the body is \(message.body.count) bytes, over the broker's max_message_size of \(limits.maximumBodyBytes)")
        }
    }

    private static func firstLongKey(_ table: AMQPTable, limit: Int, depth: Int, maximumDepth: Int) -> Int? {
        guard depth <= maximumDepth else { return nil }
        for value in table.values {
            if let found = firstLongKey(value, limit: limit, depth: depth, maximumDepth: maximumDepth) { return found }
        }
        return nil
    }

    private static func firstLongKey(_ value: AMQPFieldValue, limit: Int, depth: Int, maximumDepth: Int) -> Int? {
        switch value {
        case .table(let t):
            if let long = t.keys.first(where: { $0.utf8.count > limit }) { return long.utf8.count }
            return firstLongKey(t, limit: limit, depth: depth + 1, maximumDepth: maximumDepth)
        case .array(let values):
            for v in values {
                if let found = firstLongKey(v, limit: limit, depth: depth + 1, maximumDepth: maximumDepth) { return found }
            }
            return nil
        default:
            return nil
        }
    }

    // MARK: Fitting copies of outside input

    /// The header a fitted message carries: the comma-separated names of what was cut.
    public static let truncatedHeader = "x-itr-truncated-properties"
    /// Mark appended to a cut text.
    public static let truncationMark = "…[truncated]"

    /// `message` cut down so that ``check(_:exchange:routingKey:limits:)`` passes: for copies of
    /// outside input kept for people to look at (rejected originals), where a cut value is
    /// better than no copy. Short-string properties longer than 255 bytes are cut at a
    /// character boundary with ``truncationMark``; header names too; tables nested deeper than
    /// the limit become a text saying so; if the headers are still too large, the largest
    /// string values are cut, then the largest entries dropped (never the `x-itr-*` ones this
    /// project adds). What was cut is named in ``truncatedHeader``. The body is cut to the
    /// limit (the caller marks that, it knows the original size). Returns the message
    /// unchanged when it already fits.
    public static func fitted(_ message: AMQPMessage, limits: AMQPMessageLimits) -> AMQPMessage {
        if (try? check(message, exchange: "", routingKey: "", limits: limits)) != nil { return message }
        var m = message
        var cut: [String] = []
        let short = AMQPMessageLimits.shortStringMaximum
        func fit(_ value: inout String?, _ name: String) {
            guard let v = value, v.utf8.count > short else { return }
            value = truncated(v, toBytes: short)
            cut.append(name)
        }
        fit(&m.properties.contentType, "content_type")
        fit(&m.properties.contentEncoding, "content_encoding")
        fit(&m.properties.correlationID, "correlation_id")
        fit(&m.properties.replyTo, "reply_to")
        fit(&m.properties.expiration, "expiration")
        fit(&m.properties.messageID, "message_id")
        fit(&m.properties.type, "type")
        fit(&m.properties.userID, "user_id")
        fit(&m.properties.appID, "app_id")

        var headers: AMQPTable = [:]
        for (key, value) in m.properties.headers {
            var k = key
            if k.utf8.count > short {
                k = truncated(k, toBytes: short)
                cut.append("header-name")
            }
            headers[k] = fittedValue(value, depth: 1, limits: limits, cut: &cut)
        }
        // Room for the properties and the marker header itself.
        let budget = limits.maximumHeaderBytes - 14 - 10 - 4 - 1024
            - shortStringProperties(m.properties).reduce(0) { $0 + 1 + $1.value.utf8.count }
        func size() -> Int { encodedSize(of: headers, maximumDepth: limits.maximumTableDepth) ?? Int.max }
        if size() > budget {
            // Cut long texts first, longest first, to a share of the budget each.
            let share = max(64, budget / max(1, headers.count) / 2)
            for (key, value) in headers.sorted(by: { entrySize($0.value) > entrySize($1.value) }) where size() > budget {
                guard !key.hasPrefix("x-itr-"), case .string(let s) = value, s.utf8.count > share else { continue }
                headers[key] = .string(truncated(s, toBytes: share))
                cut.append("header:\(key.prefix(64))")
            }
            for (key, value) in headers.sorted(by: { entrySize($0.value) > entrySize($1.value) }) where size() > budget {
                guard !key.hasPrefix("x-itr-") else { continue }
                _ = value
                headers[key] = nil
                cut.append("header-dropped:\(key.prefix(64))")
            }
        }
        if m.body.count > limits.maximumBodyBytes {
            m.body = m.body.prefix(limits.maximumBodyBytes)
            cut.append("body")
        }
        if !cut.isEmpty {
            var marker = ""
            for name in cut where marker.utf8.count + name.utf8.count < 900 {
                marker += marker.isEmpty ? name : ",\(name)"
            }
            headers[truncatedHeader] = .string(marker)
        }
        m.properties.headers = headers
        return m
    }

    private static func entrySize(_ value: AMQPFieldValue) -> Int {
        encodedSize(of: ["": value], maximumDepth: Int.max) ?? Int.max
    }

    private static func fittedValue(_ value: AMQPFieldValue, depth: Int, limits: AMQPMessageLimits, cut: inout [String]) -> AMQPFieldValue {
        switch value {
        case .table(let t):
            guard depth + 1 <= limits.maximumTableDepth else {
                cut.append("header-nesting")
                return .string("[a table nested deeper than \(limits.maximumTableDepth) levels was removed]")
            }
            var out: AMQPTable = [:]
            for (k, v) in t {
                let key = k.utf8.count > AMQPMessageLimits.shortStringMaximum ? truncated(k, toBytes: AMQPMessageLimits.shortStringMaximum) : k
                out[key] = fittedValue(v, depth: depth + 1, limits: limits, cut: &cut)
            }
            return .table(out)
        case .array(let values):
            guard depth + 1 <= limits.maximumTableDepth else {
                cut.append("header-nesting")
                return .string("[an array nested deeper than \(limits.maximumTableDepth) levels was removed]")
            }
            return .array(values.map { fittedValue($0, depth: depth + 1, limits: limits, cut: &cut) })
        default:
            return value
        }
    }

    /// `text` cut to at most `bytes` UTF-8 bytes, at a character boundary, ending with ``truncationMark``.
    public static func truncated(_ text: String, toBytes bytes: Int) -> String {
        guard text.utf8.count > bytes else { return text }
        let room = max(0, bytes - truncationMark.utf8.count)
        var out = ""
        var used = 0
        for ch in text {
            let n = String(ch).utf8.count
            if used + n > room { break }
            out.append(ch)
            used += n
        }
        return out + truncationMark
    }
}
