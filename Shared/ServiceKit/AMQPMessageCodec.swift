import AMQPClient
import Foundation

/// A compact, lossless binary form of an ``AMQPMessage`` (body, every property and the full
/// headers table), used to store messages in the outbox.
///
/// Layout (integers big-endian): version byte (1), a 16-bit mask of the optional properties
/// present, those properties in declaration order, the headers table, then the body to the end.
/// Strings are a 32-bit length and UTF-8; a table is a 32-bit count and (key, value) pairs in
/// key order; a field value is a one-byte tag and its payload (floats as bit patterns).
public enum AMQPMessageCodec {
    public struct DecodingError: Error, Sendable, Hashable, CustomStringConvertible {
        public var offset: Int
        public var message: String
        public var description: String { "outbox message codec: \(message) at byte \(offset)" }
    }

    static let version: UInt8 = 1

    public static func encode(_ message: AMQPMessage) -> Data {
        var writer = Writer()
        writer.bytes.reserveCapacity(message.body.count + 128)
        writer.uint8(version)
        let p = message.properties
        let optionals: [Any?] = [
            p.contentType, p.contentEncoding, p.deliveryMode, p.priority, p.correlationID, p.replyTo,
            p.expiration, p.messageID, p.timestamp, p.type, p.userID, p.appID,
        ]
        var mask: UInt16 = 0
        for (bit, value) in optionals.enumerated() where value != nil { mask |= 1 << UInt16(bit) }
        writer.uint16(mask)
        if let v = p.contentType { writer.string(v) }
        if let v = p.contentEncoding { writer.string(v) }
        if let v = p.deliveryMode { writer.uint8(v) }
        if let v = p.priority { writer.uint8(v) }
        if let v = p.correlationID { writer.string(v) }
        if let v = p.replyTo { writer.string(v) }
        if let v = p.expiration { writer.string(v) }
        if let v = p.messageID { writer.string(v) }
        if let v = p.timestamp { writer.uint64(v) }
        if let v = p.type { writer.string(v) }
        if let v = p.userID { writer.string(v) }
        if let v = p.appID { writer.string(v) }
        writer.table(p.headers)
        writer.bytes.append(contentsOf: message.body)
        return Data(writer.bytes)
    }

    public static func decode(_ data: Data) throws(DecodingError) -> AMQPMessage {
        var reader = Reader(bytes: [UInt8](data))
        let version = try reader.uint8()
        guard version == Self.version else {
            throw DecodingError(offset: 0, message: "unknown version \(version)")
        }
        let mask = try reader.uint16()
        func has(_ bit: Int) -> Bool { mask & (1 << UInt16(bit)) != 0 }
        var p = AMQPProperties()
        if has(0) { p.contentType = try reader.string() }
        if has(1) { p.contentEncoding = try reader.string() }
        if has(2) { p.deliveryMode = try reader.uint8() }
        if has(3) { p.priority = try reader.uint8() }
        if has(4) { p.correlationID = try reader.string() }
        if has(5) { p.replyTo = try reader.string() }
        if has(6) { p.expiration = try reader.string() }
        if has(7) { p.messageID = try reader.string() }
        if has(8) { p.timestamp = try reader.uint64() }
        if has(9) { p.type = try reader.string() }
        if has(10) { p.userID = try reader.string() }
        if has(11) { p.appID = try reader.string() }
        p.headers = try reader.table()
        let body = Data(reader.bytes[reader.offset...])
        return AMQPMessage(body: body, properties: p)
    }

    private enum Tag: UInt8 {
        case bool = 1, int8, int16, int32, int64, uint8, uint16, uint32, float, double, decimal, string, bytes,
            timestamp, table, array, void
    }

    private struct Writer {
        var bytes: [UInt8] = []

        mutating func uint8(_ v: UInt8) { bytes.append(v) }
        mutating func uint16(_ v: UInt16) { integer(v) }
        mutating func uint32(_ v: UInt32) { integer(v) }
        mutating func uint64(_ v: UInt64) { integer(v) }
        mutating func integer<T: FixedWidthInteger>(_ v: T) {
            withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) }
        }
        mutating func string(_ s: String) { raw(Array(s.utf8)) }
        mutating func raw(_ b: [UInt8]) {
            uint32(UInt32(b.count))
            bytes.append(contentsOf: b)
        }
        mutating func table(_ t: AMQPTable) {
            uint32(UInt32(t.count))
            for key in t.keys.sorted() {
                string(key)
                value(t[key]!)
            }
        }
        mutating func value(_ v: AMQPFieldValue) {
            switch v {
            case .bool(let x): uint8(Tag.bool.rawValue); uint8(x ? 1 : 0)
            case .int8(let x): uint8(Tag.int8.rawValue); integer(x)
            case .int16(let x): uint8(Tag.int16.rawValue); integer(x)
            case .int32(let x): uint8(Tag.int32.rawValue); integer(x)
            case .int64(let x): uint8(Tag.int64.rawValue); integer(x)
            case .uint8(let x): uint8(Tag.uint8.rawValue); integer(x)
            case .uint16(let x): uint8(Tag.uint16.rawValue); integer(x)
            case .uint32(let x): uint8(Tag.uint32.rawValue); integer(x)
            case .float(let x): uint8(Tag.float.rawValue); integer(x.bitPattern)
            case .double(let x): uint8(Tag.double.rawValue); integer(x.bitPattern)
            case .decimal(let scale, let value): uint8(Tag.decimal.rawValue); uint8(scale); integer(value)
            case .string(let x): uint8(Tag.string.rawValue); string(x)
            case .bytes(let x): uint8(Tag.bytes.rawValue); raw(x)
            case .timestamp(let x): uint8(Tag.timestamp.rawValue); integer(x)
            case .table(let x): uint8(Tag.table.rawValue); table(x)
            case .array(let x):
                uint8(Tag.array.rawValue)
                uint32(UInt32(x.count))
                for element in x { value(element) }
            case .void: uint8(Tag.void.rawValue)
            }
        }
    }

    private struct Reader {
        let bytes: [UInt8]
        var offset = 0

        func fail(_ message: String) -> DecodingError { DecodingError(offset: offset, message: message) }

        mutating func take(_ count: Int) throws(DecodingError) -> ArraySlice<UInt8> {
            guard count >= 0, bytes.count - offset >= count else { throw fail("truncated (need \(count) bytes)") }
            defer { offset += count }
            return bytes[offset..<offset + count]
        }
        mutating func uint8() throws(DecodingError) -> UInt8 { try take(1).first! }
        mutating func uint16() throws(DecodingError) -> UInt16 { try integer() }
        mutating func uint32() throws(DecodingError) -> UInt32 { try integer() }
        mutating func uint64() throws(DecodingError) -> UInt64 { try integer() }
        mutating func integer<T: FixedWidthInteger>() throws(DecodingError) -> T {
            let slice = try take(MemoryLayout<T>.size)
            var value: T = 0
            for byte in slice { value = (value << 8) | T(truncatingIfNeeded: byte) }
            return value
        }
        mutating func raw() throws(DecodingError) -> [UInt8] {
            let count = Int(try uint32())
            return Array(try take(count))
        }
        mutating func string() throws(DecodingError) -> String {
            let start = offset
            let b = try raw()
            guard let s = String(validating: b, as: UTF8.self) else {
                throw DecodingError(offset: start, message: "invalid UTF-8 in a string")
            }
            return s
        }
        mutating func table() throws(DecodingError) -> AMQPTable {
            let count = Int(try uint32())
            var table = AMQPTable(minimumCapacity: min(count, 1024))
            for _ in 0..<count {
                let key = try string()
                table[key] = try value()
            }
            return table
        }
        mutating func value() throws(DecodingError) -> AMQPFieldValue {
            let tagOffset = offset
            guard let tag = Tag(rawValue: try uint8()) else {
                throw DecodingError(offset: tagOffset, message: "unknown field tag")
            }
            switch tag {
            case .bool: return .bool(try uint8() != 0)
            case .int8: return .int8(try integer())
            case .int16: return .int16(try integer())
            case .int32: return .int32(try integer())
            case .int64: return .int64(try integer())
            case .uint8: return .uint8(try integer())
            case .uint16: return .uint16(try integer())
            case .uint32: return .uint32(try integer())
            case .float: return .float(Float(bitPattern: try integer()))
            case .double: return .double(Double(bitPattern: try integer()))
            case .decimal:
                let scale = try uint8()
                return .decimal(scale: scale, value: try integer())
            case .string: return .string(try string())
            case .bytes: return .bytes(try raw())
            case .timestamp: return .timestamp(try integer())
            case .table: return .table(try table())
            case .array:
                let count = Int(try uint32())
                var elements: [AMQPFieldValue] = []
                elements.reserveCapacity(min(count, 1024))
                for _ in 0..<count { elements.append(try value()) }
                return .array(elements)
            case .void: return .void
            }
        }
    }
}
