import CRabbitMQShim
import Foundation

/// Method ids and property flags of AMQP 0-9-1 (the C headers define them as cast macros).
enum AMQPMethod {
    static let connectionClose: UInt32 = 0x000A_0032
    static let connectionCloseOK: UInt32 = 0x000A_0033
    static let connectionBlocked: UInt32 = 0x000A_003C
    static let connectionUnblocked: UInt32 = 0x000A_003D
    static let channelClose: UInt32 = 0x0014_0028
    static let channelCloseOK: UInt32 = 0x0014_0029
    static let basicCancel: UInt32 = 0x003C_001E
    static let basicCancelOK: UInt32 = 0x003C_001F
    static let basicReturn: UInt32 = 0x003C_0032
    static let basicDeliver: UInt32 = 0x003C_003C
    static let basicAck: UInt32 = 0x003C_0050
    static let basicNack: UInt32 = 0x003C_0078
}

enum PropertyFlag {
    static let contentType: UInt32 = 1 << 15
    static let contentEncoding: UInt32 = 1 << 14
    static let headers: UInt32 = 1 << 13
    static let deliveryMode: UInt32 = 1 << 12
    static let priority: UInt32 = 1 << 11
    static let correlationID: UInt32 = 1 << 10
    static let replyTo: UInt32 = 1 << 9
    static let expiration: UInt32 = 1 << 8
    static let messageID: UInt32 = 1 << 7
    static let timestamp: UInt32 = 1 << 6
    static let type: UInt32 = 1 << 5
    static let userID: UInt32 = 1 << 4
    static let appID: UInt32 = 1 << 3
}

/// A bump allocator for the C structures of one call (tables, property strings).
/// Owned by the connection thread; `reset()` after each call keeps the first block.
final class CArena {
    private var blocks: [(UnsafeMutableRawPointer, Int)] = []
    private var offset = 0
    private let blockSize: Int

    init(blockSize: Int = 64 * 1024) {
        self.blockSize = blockSize
        blocks.append((UnsafeMutableRawPointer.allocate(byteCount: blockSize, alignment: 16), blockSize))
    }

    deinit { for (p, _) in blocks { p.deallocate() } }

    func allocate(_ size: Int, alignment: Int = 16) -> UnsafeMutableRawPointer {
        let aligned = (offset + alignment - 1) & ~(alignment - 1)
        let (current, capacity) = blocks[blocks.count - 1]
        if aligned + size <= capacity {
            offset = aligned + size
            return current + aligned
        }
        let newSize = max(blockSize, size + alignment)
        let block = UnsafeMutableRawPointer.allocate(byteCount: newSize, alignment: 16)
        blocks.append((block, newSize))
        offset = size
        return block
    }

    func reset() {
        while blocks.count > 1 { blocks.removeLast().0.deallocate() }
        offset = 0
    }

    func bytes(_ string: String) -> amqp_bytes_t {
        var s = string
        return s.withUTF8 { buf in bytes(UnsafeRawBufferPointer(buf)) }
    }

    func bytes(_ raw: UnsafeRawBufferPointer) -> amqp_bytes_t {
        if raw.isEmpty { return amqp_bytes_t(len: 0, bytes: nil) }
        let p = allocate(raw.count, alignment: 1)
        p.copyMemory(from: raw.baseAddress!, byteCount: raw.count)
        return amqp_bytes_t(len: raw.count, bytes: p)
    }

    func table(_ table: AMQPTable) -> amqp_table_t {
        if table.isEmpty { return amqp_table_t(num_entries: 0, entries: nil) }
        let entries = allocate(MemoryLayout<amqp_table_entry_t>.stride * table.count)
            .bindMemory(to: amqp_table_entry_t.self, capacity: table.count)
        // Sorted keys: deterministic wire order.
        for (i, key) in table.keys.sorted().enumerated() {
            entries[i] = amqp_table_entry_t(key: bytes(key), value: field(table[key]!))
        }
        return amqp_table_t(num_entries: Int32(table.count), entries: entries)
    }

    func field(_ value: AMQPFieldValue) -> amqp_field_value_t {
        switch value {
        case .bool(let v): return crmq_field_bool(v ? 1 : 0)
        case .int8(let v): return crmq_field_i8(v)
        case .int16(let v): return crmq_field_i16(v)
        case .int32(let v): return crmq_field_i32(v)
        case .int64(let v): return crmq_field_i64(v)
        case .uint8(let v): return crmq_field_u8(v)
        case .uint16(let v): return crmq_field_u16(v)
        case .uint32(let v): return crmq_field_u32(v)
        case .float(let v): return crmq_field_f32(v)
        case .double(let v): return crmq_field_f64(v)
        case .decimal(let scale, let v): return crmq_field_decimal(scale, v)
        case .string(let s): return crmq_field_utf8(bytes(s))
        case .bytes(let b): return b.withUnsafeBytes { crmq_field_bytes(bytes($0)) }
        case .timestamp(let t): return crmq_field_timestamp(t)
        case .table(let t): return crmq_field_table(table(t))
        case .array(let values):
            if values.isEmpty { return crmq_field_array(amqp_array_t(num_entries: 0, entries: nil)) }
            let entries = allocate(MemoryLayout<amqp_field_value_t>.stride * values.count)
                .bindMemory(to: amqp_field_value_t.self, capacity: values.count)
            for (i, v) in values.enumerated() { entries[i] = field(v) }
            return crmq_field_array(amqp_array_t(num_entries: Int32(values.count), entries: entries))
        case .void: return crmq_field_void()
        }
    }

    func properties(_ p: AMQPProperties) -> amqp_basic_properties_t {
        var c = amqp_basic_properties_t()
        var flags: UInt32 = 0
        if let v = p.contentType { c.content_type = bytes(v); flags |= PropertyFlag.contentType }
        if let v = p.contentEncoding { c.content_encoding = bytes(v); flags |= PropertyFlag.contentEncoding }
        if !p.headers.isEmpty { c.headers = table(p.headers); flags |= PropertyFlag.headers }
        if let v = p.deliveryMode { c.delivery_mode = v; flags |= PropertyFlag.deliveryMode }
        if let v = p.priority { c.priority = v; flags |= PropertyFlag.priority }
        if let v = p.correlationID { c.correlation_id = bytes(v); flags |= PropertyFlag.correlationID }
        if let v = p.replyTo { c.reply_to = bytes(v); flags |= PropertyFlag.replyTo }
        if let v = p.expiration { c.expiration = bytes(v); flags |= PropertyFlag.expiration }
        if let v = p.messageID { c.message_id = bytes(v); flags |= PropertyFlag.messageID }
        if let v = p.timestamp { c.timestamp = v; flags |= PropertyFlag.timestamp }
        if let v = p.type { c.type = bytes(v); flags |= PropertyFlag.type }
        if let v = p.userID { c.user_id = bytes(v); flags |= PropertyFlag.userID }
        if let v = p.appID { c.app_id = bytes(v); flags |= PropertyFlag.appID }
        c._flags = flags
        return c
    }
}

/// Reading C structures into Swift values (copies everything out of librabbitmq's buffers).
enum CRead {
    static func string(_ b: amqp_bytes_t) -> String {
        guard b.len > 0, let p = b.bytes else { return "" }
        let buf = UnsafeRawBufferPointer(start: p, count: b.len)
        return String(decoding: buf, as: UTF8.self)
    }

    static func byteArray(_ b: amqp_bytes_t) -> [UInt8] {
        guard b.len > 0, let p = b.bytes else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: b.len))
    }

    static func data(_ b: amqp_bytes_t) -> Data {
        guard b.len > 0, let p = b.bytes else { return Data() }
        return Data(bytes: p, count: b.len)
    }

    /// Tables and arrays nested deeper than this are not read (a cap on recursion, so that
    /// no header can exhaust the connection thread's stack); see ``TableReading``.
    static let maximumTableDepth = AMQPMessageLimits.defaultMaximumTableDepth

    /// Whether a table read hit ``maximumTableDepth``.
    struct TableReading {
        var tooDeep = false
    }

    static func table(_ t: amqp_table_t) -> AMQPTable {
        var reading = TableReading()
        return table(t, depth: 1, &reading)
    }

    static func table(_ t: amqp_table_t, depth: Int, _ reading: inout TableReading) -> AMQPTable {
        guard t.num_entries > 0, let entries = t.entries else { return [:] }
        var result = AMQPTable(minimumCapacity: Int(t.num_entries))
        for i in 0..<Int(t.num_entries) {
            var entry = entries[i]
            result[string(entry.key)] = field(&entry.value, depth: depth, &reading)
        }
        return result
    }

    static func field(_ v: UnsafePointer<amqp_field_value_t>, depth: Int, _ reading: inout TableReading) -> AMQPFieldValue {
        let kind = crmq_field_kind(v)
        if UInt32(kind) == AMQP_FIELD_KIND_TABLE.rawValue || UInt32(kind) == AMQP_FIELD_KIND_ARRAY.rawValue, depth + 1 > maximumTableDepth {
            reading.tooDeep = true
            return .string("[nested deeper than \(maximumTableDepth) levels: not read]")
        }
        switch UInt32(kind) {
        case AMQP_FIELD_KIND_BOOLEAN.rawValue: return .bool(crmq_field_get_bool(v) != 0)
        case AMQP_FIELD_KIND_I8.rawValue: return .int8(Int8(truncatingIfNeeded: crmq_field_get_signed(v)))
        case AMQP_FIELD_KIND_I16.rawValue: return .int16(Int16(truncatingIfNeeded: crmq_field_get_signed(v)))
        case AMQP_FIELD_KIND_I32.rawValue: return .int32(Int32(truncatingIfNeeded: crmq_field_get_signed(v)))
        case AMQP_FIELD_KIND_I64.rawValue: return .int64(crmq_field_get_signed(v))
        case AMQP_FIELD_KIND_U8.rawValue: return .uint8(UInt8(truncatingIfNeeded: crmq_field_get_unsigned(v)))
        case AMQP_FIELD_KIND_U16.rawValue: return .uint16(UInt16(truncatingIfNeeded: crmq_field_get_unsigned(v)))
        case AMQP_FIELD_KIND_U32.rawValue: return .uint32(UInt32(truncatingIfNeeded: crmq_field_get_unsigned(v)))
        case AMQP_FIELD_KIND_U64.rawValue: return .int64(Int64(bitPattern: crmq_field_get_unsigned(v)))
        case AMQP_FIELD_KIND_F32.rawValue: return .float(Float(crmq_field_get_double(v)))
        case AMQP_FIELD_KIND_F64.rawValue: return .double(crmq_field_get_double(v))
        case AMQP_FIELD_KIND_DECIMAL.rawValue:
            let d = crmq_field_get_decimal(v)
            return .decimal(scale: d.decimals, value: d.value)
        case AMQP_FIELD_KIND_UTF8.rawValue: return .string(string(crmq_field_get_bytes(v)))
        case AMQP_FIELD_KIND_BYTES.rawValue: return .bytes(byteArray(crmq_field_get_bytes(v)))
        case AMQP_FIELD_KIND_TIMESTAMP.rawValue: return .timestamp(crmq_field_get_unsigned(v))
        case AMQP_FIELD_KIND_TABLE.rawValue: return .table(table(crmq_field_get_table(v), depth: depth + 1, &reading))
        case AMQP_FIELD_KIND_ARRAY.rawValue:
            let a = crmq_field_get_array(v)
            guard a.num_entries > 0, let entries = a.entries else { return .array([]) }
            var values: [AMQPFieldValue] = []
            values.reserveCapacity(Int(a.num_entries))
            for i in 0..<Int(a.num_entries) { values.append(field(entries + i, depth: depth + 1, &reading)) }
            return .array(values)
        default: return .void
        }
    }

    static func properties(_ p: UnsafePointer<amqp_basic_properties_t>) -> AMQPProperties {
        var reading = TableReading()
        return properties(p, &reading)
    }

    static func properties(_ p: UnsafePointer<amqp_basic_properties_t>, _ reading: inout TableReading) -> AMQPProperties {
        let c = p.pointee
        let f = c._flags
        var props = AMQPProperties()
        if f & PropertyFlag.contentType != 0 { props.contentType = string(c.content_type) }
        if f & PropertyFlag.contentEncoding != 0 { props.contentEncoding = string(c.content_encoding) }
        if f & PropertyFlag.headers != 0 { props.headers = table(c.headers, depth: 1, &reading) }
        if f & PropertyFlag.deliveryMode != 0 { props.deliveryMode = c.delivery_mode }
        if f & PropertyFlag.priority != 0 { props.priority = c.priority }
        if f & PropertyFlag.correlationID != 0 { props.correlationID = string(c.correlation_id) }
        if f & PropertyFlag.replyTo != 0 { props.replyTo = string(c.reply_to) }
        if f & PropertyFlag.expiration != 0 { props.expiration = string(c.expiration) }
        if f & PropertyFlag.messageID != 0 { props.messageID = string(c.message_id) }
        if f & PropertyFlag.timestamp != 0 { props.timestamp = c.timestamp }
        if f & PropertyFlag.type != 0 { props.type = string(c.type) }
        if f & PropertyFlag.userID != 0 { props.userID = string(c.user_id) }
        if f & PropertyFlag.appID != 0 { props.appID = string(c.app_id) }
        return props
    }

    /// The error a failed librabbitmq RPC reply stands for.
    static func error(_ reply: amqp_rpc_reply_t, _ context: String) -> AMQPError {
        switch reply.reply_type {
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            var code: UInt16 = 0
            var text = amqp_bytes_t()
            if crmq_close_reason(reply.reply.id, reply.reply.decoded, &code, &text) != 0 {
                let replyText = string(text)
                let kind: AMQPError.Code = reply.reply.id == AMQPMethod.channelClose ? .channelClosed
                    : (code == 403 || code == 530 ? .authenticationFailed : .connectionLost)
                return AMQPError(kind, "\(context): the broker closed the \(reply.reply.id == AMQPMethod.channelClose ? "channel" : "connection")", replyCode: code, replyText: replyText)
            }
            return AMQPError(.protocolError, "\(context): unexpected server method 0x\(String(reply.reply.id, radix: 16))")
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            return statusError(reply.library_error, context)
        case AMQP_RESPONSE_NONE:
            return AMQPError(.protocolError, "\(context): no reply")
        default:
            return AMQPError(.protocolError, "\(context): reply type \(reply.reply_type.rawValue)")
        }
    }

    static func statusError(_ status: Int32, _ context: String) -> AMQPError {
        let text = String(cString: amqp_error_string2(status))
        let code: AMQPError.Code
        switch status {
        case AMQP_STATUS_TIMEOUT.rawValue: code = .timeout
        case AMQP_STATUS_SSL_ERROR.rawValue, AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED.rawValue,
            AMQP_STATUS_SSL_PEER_VERIFY_FAILED.rawValue, AMQP_STATUS_SSL_CONNECTION_FAILED.rawValue:
            code = .connectionFailed
        case AMQP_STATUS_BAD_AMQP_DATA.rawValue, AMQP_STATUS_TABLE_TOO_BIG.rawValue, AMQP_STATUS_INVALID_PARAMETER.rawValue:
            code = .unencodable
        default: code = .connectionLost
        }
        return AMQPError(code, "\(context): \(text)")
    }
}
