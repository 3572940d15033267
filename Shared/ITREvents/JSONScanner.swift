import Foundation

/// A minimal, allocation-light JSON reader over raw bytes, used by the structured-mode codecs:
/// it walks the top-level object of a CloudEvent, decodes attribute strings and hands back the
/// exact byte range of `data`, so the payload is neither re-parsed nor re-encoded (and Chinese
/// text stays byte for byte what the producer wrote).
struct JSONScanner {
    enum Kind: Equatable { case object, array, string, number, literal }

    struct Value {
        var kind: Kind
        /// Byte range of the whole value in the buffer (strings include their quotes).
        var range: Range<Int>
    }

    struct Failure: Error {
        var offset: Int
        var reason: String
    }

    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    // MARK: Top-level shapes

    /// Calls `member` for each member of the object that is the whole document.
    mutating func forEachMember(_ member: (String, Value) throws -> Void) throws {
        skipWhitespace()
        try expect(0x7B)
        skipWhitespace()
        if peek() == 0x7D {
            position += 1
        } else {
            while true {
                skipWhitespace()
                guard peek() == 0x22 else { throw Failure(offset: position, reason: "expected a member name") }
                let keyValue = try scanValue()
                let key = try decodeString(keyValue)
                skipWhitespace()
                try expect(0x3A)
                skipWhitespace()
                let value = try scanValue()
                try member(key, value)
                skipWhitespace()
                if peek() == 0x2C { position += 1; continue }
                try expect(0x7D)
                break
            }
        }
        try expectEnd()
    }

    /// The elements of the array that is the whole document, each scanned (validated) once.
    mutating func arrayElements() throws -> [Value] {
        skipWhitespace()
        try expect(0x5B)
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
                try expect(0x5D)
                break
            }
        }
        try expectEnd()
        return out
    }

    /// True when the buffer holds exactly one well-formed JSON value.
    static func isWellFormed(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var scanner = JSONScanner(bytes)
        scanner.skipWhitespace()
        guard (try? scanner.scanValue()) != nil else { return false }
        return (try? scanner.expectEnd()) != nil
    }

    // MARK: Values

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

    private mutating func skipContainer() throws {
        // Iterative, so deeply nested input cannot overflow the stack.
        var stack: [UInt8] = []
        var expectingValue = true
        while true {
            skipWhitespace()
            guard let c = peek() else { throw Failure(offset: position, reason: "unexpected end of input") }
            if expectingValue {
                switch c {
                case 0x7B, 0x5B:
                    stack.append(c == 0x7B ? 0x7D : 0x5D)
                    position += 1
                    skipWhitespace()
                    if peek() == stack.last {
                        position += 1
                        stack.removeLast()
                        expectingValue = false
                        if stack.isEmpty { return }
                        continue
                    }
                    if c == 0x7B { try skipKey() }
                    continue
                default:
                    _ = try scanValue()
                    expectingValue = false
                }
            } else {
                if c == 0x2C {
                    position += 1
                    expectingValue = true
                    if stack.last == 0x7D {
                        skipWhitespace()
                        try skipKey()
                    }
                } else if c == stack.last {
                    position += 1
                    stack.removeLast()
                    if stack.isEmpty { return }
                } else {
                    throw Failure(offset: position, reason: "expected ',' or closing bracket")
                }
            }
        }
    }

    private mutating func skipKey() throws {
        guard peek() == 0x22 else { throw Failure(offset: position, reason: "expected a member name") }
        try skipString()
        skipWhitespace()
        try expect(0x3A)
    }

    private mutating func skipString() throws {
        position += 1
        while position < bytes.count {
            let c = bytes[position]
            if c == 0x22 { position += 1; return }
            if c == 0x5C {
                position += 2
                continue
            }
            if c < 0x20 { throw Failure(offset: position, reason: "control character in string") }
            position += 1
        }
        throw Failure(offset: position, reason: "unterminated string")
    }

    private mutating func skipNumber() throws {
        let start = position
        if peek() == 0x2D { position += 1 }
        var digits = 0
        while let c = peek(), (0x30...0x39).contains(c) || c == 0x2E || c == 0x65 || c == 0x45 || c == 0x2B
            || c == 0x2D
        {
            if (0x30...0x39).contains(c) { digits += 1 }
            position += 1
        }
        if digits == 0 { throw Failure(offset: start, reason: "malformed number") }
    }

    private mutating func skipLiteral(_ literal: StaticString) throws {
        let n = literal.utf8CodeUnitCount
        guard position + n <= bytes.count else { throw Failure(offset: position, reason: "unexpected end of input") }
        let lit = UnsafeBufferPointer(start: literal.utf8Start, count: n)
        for k in 0..<n where bytes[position + k] != lit[k] {
            throw Failure(offset: position, reason: "malformed literal")
        }
        position += n
    }

    // MARK: Decoding

    /// The text of a string value, with escapes resolved; fails on invalid UTF-8.
    func decodeString(_ value: Value) throws -> String {
        let inner = (value.range.lowerBound + 1)..<(value.range.upperBound - 1)
        let slice = UnsafeBufferPointer(rebasing: bytes[inner])
        if !slice.contains(0x5C) {
            guard let s = String(validating: slice, as: UTF8.self) else {
                throw Failure(offset: inner.lowerBound, reason: "invalid UTF-8")
            }
            return s
        }
        var out = [UInt8]()
        out.reserveCapacity(slice.count)
        var i = 0
        while i < slice.count {
            let c = slice[i]
            guard c == 0x5C else { out.append(c); i += 1; continue }
            guard i + 1 < slice.count else { throw Failure(offset: inner.lowerBound + i, reason: "bad escape") }
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
                var scalar = try hex4(slice, i)
                i += 4
                if (0xD800...0xDBFF).contains(scalar), i + 6 <= slice.count, slice[i] == 0x5C, slice[i + 1] == 0x75 {
                    let low = try hex4(slice, i + 2)
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
                throw Failure(offset: inner.lowerBound + i, reason: "bad escape")
            }
        }
        guard let s = String(validating: out, as: UTF8.self) else {
            throw Failure(offset: inner.lowerBound, reason: "invalid UTF-8")
        }
        return s
    }

    private func hex4(_ s: UnsafeBufferPointer<UInt8>, _ at: Int) throws -> UInt32 {
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

    private mutating func expect(_ c: UInt8) throws {
        guard peek() == c else {
            throw Failure(offset: position, reason: "expected '\(Character(Unicode.Scalar(c)))'")
        }
        position += 1
    }

    private mutating func expectEnd() throws {
        skipWhitespace()
        guard position == bytes.count else { throw Failure(offset: position, reason: "trailing characters") }
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
