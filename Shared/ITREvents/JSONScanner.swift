import Foundation

/// A strict RFC 8259 JSON reader over raw bytes, allocation-light, used by the structured-mode
/// codecs and as the gate in front of `JSONDecoder` for event data (``EventCoding/decode(_:from:pathPrefix:)``):
/// it walks the top-level object of a CloudEvent, decodes attribute strings and hands back the
/// exact byte range of `data`, so the payload is neither re-parsed nor re-encoded (and Chinese
/// text stays byte for byte what the producer wrote).
///
/// Strict means every value is checked even where it is only skipped:
/// - numbers follow the grammar exactly (`01`, `-`, `1-2`, `1e`, `1.`, `.5`, `+1` are rejected);
/// - strings hold only the escapes of RFC 8259 section 7 (`\q` is rejected), `\u` takes four hex
///   digits, and a UTF-16 surrogate escape must be a high-low pair: a lone surrogate is rejected
///   (it has no UTF-8 form, and no Swift `String` can hold it);
/// - no raw control characters (U+0000-U+001F) in strings;
/// - the text is UTF-8 without a byte order mark: no overlong forms, no encoded surrogates,
///   nothing above U+10FFFF, no truncated sequences;
/// - nothing but whitespace after the value;
/// - no member name twice in one object (``Failure/Kind-swift.enum/duplicateKey``). Names are
///   compared after escapes are resolved, as Swift strings (canonical equivalence): the
///   `Decodable` readers downstream key by Swift strings, so two names they would merge are one
///   name said twice;
/// - at most ``CloudEventLimits/maxJSONDepth`` arrays and objects nested
///   (``Failure/Kind-swift.enum/tooDeep``); nesting is scanned iteratively, never by recursion.
struct JSONScanner {
    enum Kind: Equatable { case object, array, string, number, literal }

    struct Value {
        var kind: Kind
        /// Byte range of the whole value in the buffer (strings include their quotes).
        var range: Range<Int>
    }

    struct Failure: Error, CustomStringConvertible {
        enum Kind: Sendable, Hashable {
            /// Not JSON: a syntax error, a bad number, escape or control character, trailing text.
            case malformed
            /// A byte sequence that is not UTF-8.
            case invalidUTF8
            /// An object names one member twice.
            case duplicateKey
            /// Arrays and objects nested deeper than the limit.
            case tooDeep
        }

        var kind: Kind = .malformed
        var offset: Int
        var reason: String

        init(_ kind: Kind, offset: Int, reason: String) {
            self.kind = kind
            self.offset = offset
            self.reason = reason
        }

        init(offset: Int, reason: String) { self.init(.malformed, offset: offset, reason: reason) }

        var description: String { "\(reason) at byte \(offset)" }
    }

    /// The deepest nesting of arrays and objects accepted (the document's own container is 1).
    static var maxDepth: Int { CloudEventLimits.maxJSONDepth }

    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0
    /// Whether a member name said twice in one object is refused. Off only where each part is
    /// read again on its own (the elements of a batch), so one bad element does not spoil the rest.
    var refusesDuplicateNames = true
    /// How many containers enclose `position` (for the depth limit).
    private var depth = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    // MARK: Top-level shapes

    /// Calls `member` for each member of the object that is the whole document.
    mutating func forEachMember(_ member: (String, Value) throws -> Void) throws {
        skipWhitespace()
        try expect(0x7B)
        depth = 1
        defer { depth = 0 }
        var names = MemberNames()
        skipWhitespace()
        if peek() == 0x7D {
            position += 1
        } else {
            while true {
                skipWhitespace()
                let key = try scanMemberName(into: &names)
                skipWhitespace()
                let value = try scanValue()
                try member(key, value)
                skipWhitespace()
                if peek() == 0x2C { position += 1; continue }
                try expect(0x7D, or: "expected ',' or '}'")
                break
            }
        }
        try expectEnd()
    }

    /// The elements of the array that is the whole document, each scanned (validated) once.
    mutating func arrayElements() throws -> [Value] {
        skipWhitespace()
        try expect(0x5B)
        depth = 1
        defer { depth = 0 }
        var out: [Value] = []
        skipWhitespace()
        if peek() == 0x5D {
            position += 1
        } else {
            while true {
                skipWhitespace()
                out.append(try scanValue())
                skipWhitespace()
                if peek() == 0x2C { position += 1; continue }
                try expect(0x5D, or: "expected ',' or ']'")
                break
            }
        }
        try expectEnd()
        return out
    }

    /// Checks that the buffer holds exactly one well-formed JSON value (surrounded by whitespace
    /// at most); throws the first violation.
    static func validate(_ bytes: UnsafeBufferPointer<UInt8>) throws(Failure) {
        var scanner = JSONScanner(bytes)
        do {
            scanner.skipWhitespace()
            _ = try scanner.scanValue()
            try scanner.expectEnd()
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(offset: scanner.position, reason: "\(error)")
        }
    }

    /// ``validate(_:)`` over `data`.
    static func validate(_ data: Data) throws(Failure) {
        let failure = data.withUnsafeBytes { raw -> Failure? in
            do throws(Failure) {
                try validate(raw.bindMemory(to: UInt8.self))
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    /// True when the buffer holds exactly one well-formed JSON value.
    static func isWellFormed(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        (try? validate(bytes)) != nil
    }

    // MARK: Values

    /// Scans the value at `position` (which must not be whitespace), containers included.
    mutating func scanValue() throws -> Value {
        let start = position
        guard let c = peek() else { throw Failure(offset: position, reason: "unexpected end of input") }
        switch c {
        case 0x22:
            try skipString()
            return Value(kind: .string, range: start..<position)
        case 0x7B, 0x5B:
            try skipContainer()
            return Value(kind: c == 0x7B ? .object : .array, range: start..<position)
        case 0x2D, 0x30...0x39:
            try skipNumber()
            return Value(kind: .number, range: start..<position)
        case 0x74: try skipLiteral("true")
        case 0x66: try skipLiteral("false")
        case 0x6E: try skipLiteral("null")
        default: throw Failure(offset: position, reason: "unexpected character")
        }
        return Value(kind: .literal, range: start..<position)
    }

    /// One open array or object while a container is skipped.
    private struct Frame {
        var isObject: Bool
        /// The member names seen so far (objects only).
        var names = MemberNames()
        var closer: UInt8 { isObject ? 0x7D : 0x5D }
    }

    /// What may come next inside the innermost open container.
    private enum Expecting { case firstOrClose, next, commaOrClose }

    private mutating func skipContainer() throws {
        // Iterative, so deeply nested input cannot overflow the stack (and the depth is capped).
        var stack: [Frame] = []
        try open(&stack)
        var expecting = Expecting.firstOrClose
        while true {
            skipWhitespace()
            guard let c = peek() else { throw Failure(offset: position, reason: "unexpected end of input") }
            let top = stack.count - 1
            switch expecting {
            case .commaOrClose:
                if c == 0x2C {
                    position += 1
                    expecting = .next
                } else if c == stack[top].closer {
                    position += 1
                    stack.removeLast()
                    if stack.isEmpty { return }
                } else {
                    throw Failure(offset: position, reason: "expected ',' or '\(Character(Unicode.Scalar(stack[top].closer)))'")
                }
            case .firstOrClose where c == stack[top].closer:
                position += 1
                stack.removeLast()
                if stack.isEmpty { return }
                expecting = .commaOrClose
            case .firstOrClose, .next:
                if stack[top].isObject {
                    _ = try scanMemberName(into: &stack[top].names)
                    skipWhitespace()
                }
                if let v = peek(), v == 0x7B || v == 0x5B {
                    try open(&stack)
                    expecting = .firstOrClose
                } else {
                    _ = try scanValue()
                    expecting = .commaOrClose
                }
            }
        }
    }

    /// Enters the array or object at `position`.
    private mutating func open(_ stack: inout [Frame]) throws {
        guard depth + stack.count < Self.maxDepth else {
            throw Failure(.tooDeep, offset: position, reason: "nested deeper than \(Self.maxDepth) arrays and objects")
        }
        stack.append(Frame(isObject: bytes[position] == 0x7B))
        position += 1
    }

    /// A member name and its `:`; the name decoded, and refused when the object already has it.
    private mutating func scanMemberName(into names: inout MemberNames) throws -> String {
        guard peek() == 0x22 else { throw Failure(offset: position, reason: "expected a member name") }
        let start = position
        try skipString()
        let name = try decodeString(Value(kind: .string, range: start..<position))
        guard !refusesDuplicateNames || names.insert(name) else {
            throw Failure(.duplicateKey, offset: start, reason: "member name \"\(CloudEventError.excerpt(name))\" appears twice in one object")
        }
        skipWhitespace()
        try expect(0x3A, or: "expected ':'")
        return name
    }

    private mutating func skipString() throws {
        position += 1
        while position < bytes.count {
            let c = bytes[position]
            switch c {
            case 0x22:
                position += 1
                return
            case 0x5C: try skipEscape()
            case 0x00..<0x20: throw Failure(offset: position, reason: "raw control character in string")
            case 0x20..<0x80: position += 1
            default: try skipUTF8Sequence()
            }
        }
        throw Failure(offset: position, reason: "unterminated string")
    }

    /// `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t` or `\uXXXX` (a surrogate only as a high-low pair).
    private mutating func skipEscape() throws {
        let start = position
        guard position + 1 < bytes.count else { throw Failure(offset: position, reason: "unterminated string") }
        switch bytes[position + 1] {
        case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74:
            position += 2
        case 0x75:
            let unit = try Self.hex4(bytes, position + 2)
            position += 6
            if (0xDC00...0xDFFF).contains(unit) {
                throw Failure(offset: start, reason: "lone low surrogate \\u\(String(unit, radix: 16, uppercase: true))")
            }
            if (0xD800...0xDBFF).contains(unit) {
                guard position + 1 < bytes.count, bytes[position] == 0x5C, bytes[position + 1] == 0x75,
                    let low = try? Self.hex4(bytes, position + 2), (0xDC00...0xDFFF).contains(low)
                else {
                    throw Failure(offset: start, reason: "lone high surrogate \\u\(String(unit, radix: 16, uppercase: true))")
                }
                position += 6
            }
        default:
            throw Failure(offset: start, reason: "invalid escape")
        }
    }

    /// One multi-byte UTF-8 sequence (Unicode 15, table 3-7: well-formed byte sequences).
    private mutating func skipUTF8Sequence() throws {
        let lead = bytes[position]
        var low: UInt8 = 0x80, high: UInt8 = 0xBF
        let continuation: Int
        switch lead {
        case 0xC2...0xDF: continuation = 1
        case 0xE0: continuation = 2; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: continuation = 2
        case 0xED: continuation = 2; high = 0x9F  // no UTF-8-encoded surrogates
        case 0xF0: continuation = 3; low = 0x90
        case 0xF1...0xF3: continuation = 3
        case 0xF4: continuation = 3; high = 0x8F  // nothing above U+10FFFF
        default: throw Failure(.invalidUTF8, offset: position, reason: "invalid UTF-8")
        }
        guard position + continuation < bytes.count else {
            throw Failure(.invalidUTF8, offset: position, reason: "truncated UTF-8 sequence")
        }
        guard (low...high).contains(bytes[position + 1]) else {
            throw Failure(.invalidUTF8, offset: position, reason: "invalid UTF-8")
        }
        var k = 2
        while k <= continuation {
            guard (0x80...0xBF).contains(bytes[position + k]) else {
                throw Failure(.invalidUTF8, offset: position, reason: "invalid UTF-8")
            }
            k += 1
        }
        position += continuation + 1
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, not followed by more number
    /// characters, and within the range of a double (RFC 8259 section 6 lets readers limit it):
    /// `1e999` would be infinity to every reader here, so it is refused.
    private mutating func skipNumber() throws {
        let start = position
        func digit(_ c: UInt8?) -> Bool { c.map { (0x30...0x39).contains($0) } ?? false }
        if peek() == 0x2D { position += 1 }
        guard digit(peek()) else { throw Failure(offset: start, reason: "malformed number") }
        if peek() == 0x30 {
            position += 1
        } else {
            while digit(peek()) { position += 1 }
        }
        if peek() == 0x2E {
            position += 1
            guard digit(peek()) else { throw Failure(offset: start, reason: "malformed number") }
            while digit(peek()) { position += 1 }
        }
        var exponent = false
        if peek() == 0x65 || peek() == 0x45 {
            exponent = true
            position += 1
            if peek() == 0x2B || peek() == 0x2D { position += 1 }
            guard digit(peek()) else { throw Failure(offset: start, reason: "malformed number") }
            while digit(peek()) { position += 1 }
        }
        if let c = peek(), digit(c) || c == 0x2E || c == 0x65 || c == 0x45 || c == 0x2B || c == 0x2D {
            throw Failure(offset: start, reason: "malformed number")
        }
        // Only an exponent or more than 308 digits can leave the range of a double.
        if exponent || position - start > 308 {
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
            guard let value = Double(text), value.isFinite else {
                throw Failure(offset: start, reason: "number out of the range of a double")
            }
        }
    }

    private mutating func skipLiteral(_ literal: StaticString) throws {
        let n = literal.utf8CodeUnitCount
        guard position + n <= bytes.count else { throw Failure(offset: position, reason: "malformed literal") }
        let lit = UnsafeBufferPointer(start: literal.utf8Start, count: n)
        for k in 0..<n where bytes[position + k] != lit[k] {
            throw Failure(offset: position, reason: "malformed literal")
        }
        position += n
    }

    // MARK: Decoding

    /// The text of a string value, with escapes resolved; fails on invalid UTF-8 or a lone surrogate.
    func decodeString(_ value: Value) throws -> String {
        let inner = (value.range.lowerBound + 1)..<(value.range.upperBound - 1)
        let slice = UnsafeBufferPointer(rebasing: bytes[inner])
        if !slice.contains(0x5C) {
            guard let s = String(validating: slice, as: UTF8.self) else {
                throw Failure(.invalidUTF8, offset: inner.lowerBound, reason: "invalid UTF-8")
            }
            return s
        }
        var out = [UInt8]()
        out.reserveCapacity(slice.count)
        var i = 0
        while i < slice.count {
            let c = slice[i]
            guard c == 0x5C else { out.append(c); i += 1; continue }
            guard i + 1 < slice.count else { throw Failure(offset: inner.lowerBound + i, reason: "invalid escape") }
            let e = slice[i + 1]
            i += 2
            switch e {
            case 0x22: out.append(0x22)
            case 0x5C: out.append(0x5C)
            case 0x2F: out.append(0x2F)
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x75:
                var scalar = try Self.hex4(slice, i)
                i += 4
                if (0xD800...0xDBFF).contains(scalar), i + 6 <= slice.count, slice[i] == 0x5C, slice[i + 1] == 0x75 {
                    let low = try Self.hex4(slice, i + 2)
                    if (0xDC00...0xDFFF).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        i += 6
                    }
                }
                guard let u = Unicode.Scalar(scalar) else {
                    throw Failure(offset: inner.lowerBound + i, reason: "lone surrogate")
                }
                out.append(contentsOf: String(Character(u)).utf8)
            default:
                throw Failure(offset: inner.lowerBound + i - 2, reason: "invalid escape")
            }
        }
        guard let s = String(validating: out, as: UTF8.self) else {
            throw Failure(.invalidUTF8, offset: inner.lowerBound, reason: "invalid UTF-8")
        }
        return s
    }

    /// The four hex digits at `at` as a UTF-16 code unit.
    private static func hex4(_ s: UnsafeBufferPointer<UInt8>, _ at: Int) throws -> UInt32 {
        guard at + 4 <= s.count else { throw Failure(offset: at, reason: "bad \\u escape") }
        var v: UInt32 = 0
        for k in at..<(at + 4) {
            let c = s[k]
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x41...0x46: d = c - 0x41 + 10
            case 0x61...0x66: d = c - 0x61 + 10
            default: throw Failure(offset: at, reason: "bad \\u escape")
            }
            v = v << 4 | UInt32(d)
        }
        return v
    }

    /// The raw text of a value (for numbers and literals).
    func rawText(_ value: Value) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[value.range]), as: UTF8.self)
    }

    // MARK: Low level

    func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private mutating func expect(_ c: UInt8, or reason: String? = nil) throws {
        guard peek() == c else {
            if peek() == nil { throw Failure(offset: position, reason: "unexpected end of input") }
            throw Failure(offset: position, reason: reason ?? "expected '\(Character(Unicode.Scalar(c)))'")
        }
        position += 1
    }

    private mutating func expectEnd() throws {
        skipWhitespace()
        guard position == bytes.count else { throw Failure(offset: position, reason: "trailing characters after the value") }
    }
}

/// The member names of one object, for the duplicate check: a short list while the object is
/// small (most are), a set beyond.
struct MemberNames {
    private var few: [String] = []
    private var many: Set<String> = []

    /// Adds `name`; false when it was there already.
    mutating func insert(_ name: String) -> Bool {
        if !many.isEmpty { return many.insert(name).inserted }
        if few.contains(name) { return false }
        few.append(name)
        if few.count > 16 {
            many = Set(few)
            few = []
        }
        return true
    }
}

/// Appends JSON text to a byte buffer: strings escaped minimally (quotes, backslash, control
/// characters), non-ASCII and `/` written as is.
struct JSONWriter {
    var bytes: [UInt8] = []

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    mutating func raw(_ s: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    mutating func raw<C: Collection>(_ b: C) where C.Element == UInt8 { bytes.append(contentsOf: b) }

    mutating func string(_ s: String) {
        bytes.append(0x22)
        var s = s
        s.withUTF8 { u in
            var runStart = 0
            for i in 0..<u.count {
                let c = u[i]
                guard c < 0x20 || c == 0x22 || c == 0x5C else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: u[runStart..<i]))
                runStart = i + 1
                switch c {
                case 0x22: raw("\\\"")
                case 0x5C: raw("\\\\")
                case 0x0A: raw("\\n")
                case 0x0D: raw("\\r")
                case 0x09: raw("\\t")
                case 0x08: raw("\\b")
                case 0x0C: raw("\\f")
                default:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    raw("\\u00")
                    bytes.append(hex[Int(c >> 4)])
                    bytes.append(hex[Int(c & 0xF)])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: u[runStart..<u.count]))
        }
        bytes.append(0x22)
    }

    /// `"name":"value"` with a leading comma unless first.
    mutating func member(_ name: String, _ value: String, first: inout Bool) {
        if !first { bytes.append(0x2C) }
        first = false
        string(name)
        bytes.append(0x3A)
        string(value)
    }
}
