import Foundation
import ITRTestSupport
import Testing

@testable import ITREvents

/// Differential fuzzing of the strict JSON reader against Foundation's `JSONSerialization`:
/// generated JSON (Chinese and other UTF-8 text, escapes, every number form, nesting), half of it
/// mutated into something likely invalid, from a fixed seed. For every input both must agree on
/// accept/reject, and on accepted inputs the values must be equal, except for these deliberate
/// differences, each checked to be the reason when it occurs:
///
/// 1. A member named twice in one object: JSONSerialization keeps the last value, the scanner
///    refuses (`duplicate-key`), so no two readers of one event can see different values. (When
///    the first of the two holds a number out of a double's range, JSONSerialization never
///    converts it and accepts; the scanner refuses the number first. Same difference.)
/// 2. Nesting deeper than ``CloudEventLimits/maxJSONDepth`` (64): JSONSerialization goes to 512,
///    the scanner refuses (`too-deep`) long before any stack is at risk.
/// 3. A trailing comma (`[1,]`, `{"a":1,}`): JSONSerialization accepts it; RFC 8259 does not,
///    nor does the scanner.
/// 4. A UTF-8 byte order mark before the value: JSONSerialization skips it; RFC 8259 section 8.1
///    says producers MUST NOT add one, and the scanner refuses it.
/// 5. Text that is not UTF-8 at all: JSONSerialization guesses UTF-16 / UTF-32 from NUL bytes
///    among the first four and may then read the input; RFC 8259 requires UTF-8 between systems.
/// 6. A string (value or member name) that begins with U+FEFF: JSONSerialization drops that
///    character, the scanner keeps the text exactly as sent. Values are compared with it dropped.
///
/// Both refuse numbers beyond a double's range (`1e999`); both read `1e-999` as 0.
@Suite struct JSONDifferentialTests {
    static let seed: UInt64 = 0x1712_2026_0012
    static let inputs = 100_000

    enum Difference: String, CaseIterable {
        case duplicateKey = "duplicate key", tooDeep = "nesting over 64", trailingComma = "trailing comma"
        case byteOrderMark = "UTF-8 byte order mark", notUTF8 = "UTF-16/32 guess"
    }

    @Test func agreesWithJSONSerialization() throws {
        var generator = JSONFuzzGenerator(seed: Self.seed)
        var bothAccepted = 0, bothRejected = 0
        var differences: [Difference: Int] = [:]
        var disagreements: [String] = []
        for index in 0..<Self.inputs {
            let input = generator.input(index)
            let foundation = try? JSONSerialization.jsonObject(with: input, options: [.fragmentsAllowed])
            let ours = JSONScannerTests.check(input)
            switch (ours, foundation) {
            case (nil, let value?):
                bothAccepted += 1
                if let mismatch = Self.mismatch(input, value) {
                    disagreements.append("values differ (\(mismatch)): \(Self.show(input))")
                }
            case (let failure?, nil):
                _ = failure
                bothRejected += 1
            case (_?, _?):
                if let difference = Self.deliberate(input) {
                    differences[difference, default: 0] += 1
                } else {
                    disagreements.append("only the scanner refuses (\(JSONScannerTests.check(input)!)): \(Self.show(input))")
                }
            case (nil, nil):
                disagreements.append("only JSONSerialization refuses: \(Self.show(input))")
            }
        }
        print("JSONDifferentialTests: \(Self.inputs) inputs, accepted by both \(bothAccepted), refused by both \(bothRejected), deliberate differences \(differences.map { "\($0.key.rawValue) \($0.value)" }.sorted())")
        #expect(disagreements.isEmpty, "\(disagreements.count) disagreements, first 20:\n\(disagreements.prefix(20).joined(separator: "\n"))")
        // The run covered both sides and the deliberate differences.
        #expect(bothAccepted + bothRejected + differences.values.reduce(0, +) == Self.inputs)
        #expect(bothAccepted > Self.inputs / 4, "accepted by both: \(bothAccepted)")
        #expect(bothRejected > Self.inputs / 4, "rejected by both: \(bothRejected)")
        #expect(differences[.duplicateKey, default: 0] > 100, "\(differences)")
        #expect(differences[.tooDeep, default: 0] > 10, "\(differences)")
        #expect(differences[.trailingComma, default: 0] > 10, "\(differences)")
    }

    /// The deliberate difference that explains why only the scanner refuses `input`, if any.
    static func deliberate(_ input: Data) -> Difference? {
        guard let failure = JSONScannerTests.check(input) else { return nil }
        switch failure.kind {
        case .duplicateKey: return .duplicateKey
        case .tooDeep: return .tooDeep
        case .malformed, .invalidUTF8: break
        }
        if input.starts(with: [0xEF, 0xBB, 0xBF]) { return .byteOrderMark }
        if input.prefix(4).contains(0) { return .notUTF8 }
        let bytes = Array(input)
        let at = failure.offset
        // A trailing comma: the refusal is at a closing bracket right after a comma.
        if at < bytes.count, bytes[at] == 0x5D || bytes[at] == 0x7D,
            let comma = bytes[..<at].lastIndex(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }), bytes[comma] == 0x2C
        {
            var repaired = bytes
            repaired.remove(at: comma)
            let rest = Data(repaired)
            return JSONScannerTests.check(rest) == nil || deliberate(rest) != nil ? .trailingComma : nil
        }
        // A number out of range that JSONSerialization never converted: a later member of the same name replaced it.
        if failure.reason.contains("range of a double") {
            let end = bytes[at...].firstIndex { !Array("0123456789+-.eE".utf8).contains($0) } ?? bytes.count
            var repaired = bytes
            repaired.replaceSubrange(at..<end, with: [0x30])
            return deliberate(Data(repaired)) == .duplicateKey ? .duplicateKey : nil
        }
        return nil
    }

    /// Text as JSONSerialization gives it back: without a leading U+FEFF (difference 6).
    static func asFoundationReads(_ text: String) -> String {
        text.unicodeScalars.first == "\u{FEFF}" ? String(text.unicodeScalars.dropFirst()) : text
    }

    // MARK: Comparing values

    /// Why the scanner's reading of `input` differs from Foundation's `value`, or nil when equal.
    static func mismatch(_ input: Data, _ value: Any) -> String? {
        input.withUnsafeBytes { raw -> String? in
            let bytes = raw.bindMemory(to: UInt8.self)
            var scanner = JSONScanner(bytes)
            scanner.skipWhitespace()
            guard let top = try? scanner.scanValue() else { return "scanner cannot re-read" }
            return mismatch(top, in: bytes, value)
        }
    }

    static func mismatch(_ value: JSONScanner.Value, in bytes: UnsafeBufferPointer<UInt8>, _ other: Any) -> String? {
        let reader = JSONScanner(bytes)
        switch value.kind {
        case .string:
            guard let text = try? reader.decodeString(value) else { return "string not decodable" }
            guard let theirs = other as? String else { return "string vs \(type(of: other))" }
            return asFoundationReads(text).unicodeScalars.elementsEqual(theirs.unicodeScalars)
                ? nil : "\(text.debugDescription) vs \(theirs.debugDescription)"
        case .number:
            let raw = reader.rawText(value)
            guard let number = other as? NSNumber, !isBoolean(other) else { return "number \(raw) vs \(type(of: other))" }
            return sameNumber(raw, number) ? nil : "\(raw) vs \(number)"
        case .literal:
            let raw = reader.rawText(value)
            switch raw {
            case "null": return other is NSNull ? nil : "null vs \(other)"
            default:
                guard isBoolean(other), let flag = other as? Bool else { return "\(raw) vs \(type(of: other))" }
                return flag == (raw == "true") ? nil : "\(raw) vs \(flag)"
            }
        case .array:
            guard let theirs = other as? [Any] else { return "array vs \(type(of: other))" }
            let slice = UnsafeBufferPointer(rebasing: bytes[value.range])
            var sub = JSONScanner(slice)
            guard let elements = try? sub.arrayElements() else { return "array not re-readable" }
            guard elements.count == theirs.count else { return "\(elements.count) vs \(theirs.count) elements" }
            for (element, other) in zip(elements, theirs) {
                if let why = mismatch(element, in: slice, other) { return why }
            }
            return nil
        case .object:
            guard let theirs = other as? [String: Any] else { return "object vs \(type(of: other))" }
            let slice = UnsafeBufferPointer(rebasing: bytes[value.range])
            var sub = JSONScanner(slice)
            var count = 0
            var why: String?
            do {
                try sub.forEachMember { name, member in
                    count += 1
                    guard why == nil else { return }
                    guard let other = theirs[asFoundationReads(name)] else {
                        why = "member \(name.debugDescription) missing"
                        return
                    }
                    why = mismatch(member, in: slice, other)
                }
            } catch {
                return "object not re-readable"
            }
            return why ?? (count == theirs.count ? nil : "\(count) vs \(theirs.count) members")
        }
    }

    /// JSONSerialization gives `true` / `false` as NSNumbers of a boolean (objCType `c`); JSON
    /// numbers come back as integers (`q`) or doubles (`d`), never as a char.
    static func isBoolean(_ value: Any) -> Bool {
        if value is Bool, !(value is NSNumber) { return true }
        guard let number = value as? NSNumber else { return false }
        return String(cString: number.objCType) == "c"
    }

    static func sameNumber(_ raw: String, _ number: NSNumber) -> Bool {
        guard let double = Double(raw) else { return false }
        if !raw.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), let integer = Int64(raw) {
            return number.int64Value == integer && number.doubleValue == double
        }
        let theirs = number.doubleValue
        if double == theirs { return true }
        return abs(double - theirs) <= abs(double) * 1e-15
    }

    static func show(_ input: Data) -> String {
        let text = String(decoding: input.prefix(160), as: UTF8.self).debugDescription
        return "\(text) [\(input.prefix(48).map { String(format: "%02x", $0) }.joined())\(input.count > 48 ? "…" : "")]"
    }
}

/// JSON texts for differential fuzzing: valid documents and mutations of them.
struct JSONFuzzGenerator {
    var random: SplitMix64

    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    static let words = ["光模块", "温度过高", "业务中断", "上海", "工单", "東京", "한국어", "émoji", "😀", "a", "summary", "x y", "ß", "e\u{301}"]
    static let escapes = [#"\""#, #"\\"#, #"\/"#, #"\b"#, #"\f"#, #"\n"#, #"\r"#, #"\t"#, #"\u4e2d"#, #"\u00E9"#, #"\ud83d\ude00"#, #"\u0000"#, #"\u001f"#, #"\uFFFF"#]
    static let numbers = [
        "0", "-0", "7", "-42", "1.5", "-0.25", "3.14159", "1e3", "1E+3", "2.5e-3", "-1.0E10", "12345678901234567890", "1e-300",
        "9007199254740993", "0.1", "100", "-9223372036854775808", "9223372036854775807", "4.9e-324", "1.7976931348623157e308",
    ]
    static let keys = ["id", "summary", "data", "工单", "客户", "a", "b", "\u{E9}", "n", "", "list", "nested"]
    static let snippets: [[UInt8]] = [
        "01", "-", "1-2", "1e", "1.", ".5", "+1", #"\q"#, #"\u12"#, #"\ud800"#, #"\udc00"#, "\u{1}", "\"", ",", "]", "}", ":", "[",
        "{", "tru", "nul", "1e999", "-1e999", "\u{FEFF}", "\\", "0x1", "NaN", "\t", "/",
    ].map { Array($0.utf8) } + [[0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xFF], [0xE5, 0xB7], [0x80], [0x00]]
    static let interesting: [UInt8] = Array("{}[]\",:\\0123456789eE.+- tfnu\"\n".utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xE5, 0xED, 0xF4, 0xFF]

    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &random) < p }
    mutating func pick<T>(_ values: [T]) -> T { values[Int.random(in: 0..<values.count, using: &random)] }

    /// Input number `index`: every 500th deeply nested, half of the others mutated.
    mutating func input(_ index: Int) -> Data {
        if index % 500 == 7 {
            let depth = Int.random(in: 60...80, using: &random)
            let object = chance(0.5)
            return Data(
                (String(repeating: object ? "{\"k\":" : "[", count: depth) + "1" + String(repeating: object ? "}" : "]", count: depth)).utf8)
        }
        var bytes: [UInt8] = []
        whitespace(&bytes)
        value(&bytes, depth: 0)
        whitespace(&bytes)
        if chance(0.5) {
            for _ in 0..<Int.random(in: 1...3, using: &random) { mutate(&bytes) }
        }
        return Data(bytes)
    }

    mutating func whitespace(_ out: inout [UInt8]) {
        if chance(0.7) { return }
        out.append(contentsOf: pick([" ", "\n", "\t", "\r\n", "  "]).utf8)
    }

    mutating func value(_ out: inout [UInt8], depth: Int) {
        let roll = Int.random(in: 0..<(depth >= 4 ? 6 : 10), using: &random)
        switch roll {
        case 0, 1: string(&out)
        case 2, 3: out.append(contentsOf: pick(Self.numbers).utf8)
        case 4: out.append(contentsOf: pick(["true", "false", "null"]).utf8)
        case 5: out.append(contentsOf: String(Int.random(in: -1_000_000...1_000_000, using: &random)).utf8)
        case 6, 7:
            out.append(0x5B)
            let n = Int.random(in: 0...4, using: &random)
            for i in 0..<n {
                if i > 0 { out.append(0x2C) }
                whitespace(&out)
                value(&out, depth: depth + 1)
                whitespace(&out)
            }
            out.append(0x5D)
        default:
            out.append(0x7B)
            let n = Int.random(in: 0...4, using: &random)
            var used: [String] = []
            for i in 0..<n {
                if i > 0 { out.append(0x2C) }
                whitespace(&out)
                // Mostly distinct names; now and then one said twice (a deliberate difference).
                var key = pick(Self.keys)
                if used.contains(key), chance(0.9) { key += "\(i)" }
                used.append(key)
                quoted(key, &out)
                whitespace(&out)
                out.append(0x3A)
                whitespace(&out)
                value(&out, depth: depth + 1)
            }
            out.append(0x7D)
        }
    }

    mutating func quoted(_ text: String, _ out: inout [UInt8]) {
        out.append(0x22)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out.append(contentsOf: #"\""#.utf8)
            case "\\": out.append(contentsOf: #"\\"#.utf8)
            default: out.append(contentsOf: String(scalar).utf8)
            }
        }
        out.append(0x22)
    }

    mutating func string(_ out: inout [UInt8]) {
        out.append(0x22)
        for _ in 0..<Int.random(in: 0...4, using: &random) {
            if chance(0.3) {
                out.append(contentsOf: pick(Self.escapes).utf8)
            } else {
                out.append(contentsOf: pick(Self.words).utf8)
            }
        }
        out.append(0x22)
    }

    mutating func mutate(_ bytes: inout [UInt8]) {
        guard !bytes.isEmpty else {
            bytes = pick(Self.snippets)
            return
        }
        let at = Int.random(in: 0..<bytes.count, using: &random)
        switch Int.random(in: 0..<8, using: &random) {
        case 0: bytes.remove(at: at)
        case 1: bytes.insert(pick(Self.interesting), at: at)
        case 2: bytes[at] = pick(Self.interesting)
        case 3: bytes.removeSubrange(at...)
        case 4: bytes.insert(contentsOf: pick(Self.snippets), at: at)
        case 5:
            let end = min(bytes.count, at + Int.random(in: 1...8, using: &random))
            bytes.insert(contentsOf: Array(bytes[at..<end]), at: end)
        case 6:
            // A comma before a closing bracket (a trailing comma, when the container is not empty).
            if let close = bytes[at...].firstIndex(where: { $0 == 0x5D || $0 == 0x7D }) { bytes.insert(0x2C, at: close) }
        default:
            let other = Int.random(in: 0..<bytes.count, using: &random)
            bytes.swapAt(at, other)
        }
    }
}
