import Foundation
import Testing

@testable import ITREvents

/// The strict JSON reader behind the structured-mode codecs and event data (RFC 8259).
@Suite struct JSONScannerTests {
    static func check(_ text: String) -> JSONScanner.Failure? { check(Data(text.utf8)) }

    static func check(_ bytes: Data) -> JSONScanner.Failure? {
        do {
            try JSONScanner.validate(bytes)
            return nil
        } catch {
            return error
        }
    }

    static let malformed: [String] = [
        // Numbers.
        "01", "-01", "00", "-", "--1", "1-2", "1+2", "1e", "1e+", "1E-", "1.", "1.e5", ".5", "-.5", "+1", "1.2.3", "1e5e5",
        "0x10", "1_000", "Infinity", "-Infinity", "NaN", "[01]", "[1.]", "{\"a\":-}", "[1e]", "[.5]", "[+1]",
        // Escapes.
        #""\q""#, #""\x41""#, #""\U0041""#, #""\u12""#, #""\u12G4""#, #""\"#, #""\u""#, #""\'""#, #""\0""#,
        // Lone surrogates (the documented choice: refused, they have no UTF-8 form).
        #""\ud800""#, #""\udbff x""#, #""\udc00""#, #""\ud800\u0041""#, #""\ud800\ud800""#, #""\ude00\ud83d""#,
        // Raw control characters in strings.
        "\"a\u{0}b\"", "\"a\u{1F}b\"", "\"tab\there\"", "\"new\nline\"", "\"\r\"",
        // Structure and trailing text.
        "", " ", "{", "}", "[", "]", "[1,]", "[,1]", "{\"a\":1,}", "{,}", "{\"a\"}", "{\"a\":}", "{\"a\" 1}", "{1:2}",
        "{'a':1}", "[1 2]", "[1]]", "{} {}", "[] x", "1 2", "true false", "nul", "tru", "falsey", "True", "NULL",
        "\"unterminated", "[\"a\",", "{\"a\":[1,{\"b\":2]}", "\u{FEFF}{}", "/* comment */ 1", "[1] // c",
    ]

    @Test(arguments: malformed)
    func rejectsWhatRFC8259Rejects(_ text: String) {
        let failure = Self.check(text)
        #expect(failure?.kind == .malformed, "\(text.debugDescription) → \(failure.map(String.init(describing:)) ?? "accepted")")
    }

    @Test func rejectsInvalidUTF8() {
        let cases: [[UInt8]] = [
            [0xFF], [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],
            [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xE5, 0xB7], [0xE5], [0x80], [0xBF, 0x41],
            [0xF0, 0x9F, 0x98], [0xE5, 0x41, 0xA5],
        ]
        for bytes in cases {
            let json = Data([0x22] + bytes + [0x22])
            let failure = Self.check(json)
            #expect(failure?.kind == .invalidUTF8, "\(bytes) → \(failure.map(String.init(describing:)) ?? "accepted")")
        }
        // Outside strings, a non-ASCII byte is simply not JSON.
        #expect(Self.check(Data([0x5B, 0xE5, 0xB7, 0xA5, 0x5D]))?.kind == .malformed)
    }

    static let wellFormed: [String] = [
        "0", "-0", "1", "-1", "10", "1.5", "-0.0", "1e5", "1E5", "1e+5", "1e-5", "-1.25E-300", "123456789012345678901234567890",
        "true", "false", "null", "\"\"", #""\"\\\/\b\f\n\r\t""#, #""\u4e2d\u6587""#, #""\ud83d\ude00""#, #""\u0000""#,
        "\"光模块温度过高，业务中断 😀\"", "[]", "{}", " [ ] ", "\t\n\r {\"a\" : [1, {\"b\": null}], \"c\": \"工单\"} \n",
        #"{"a":1,"A":2,"é":3,"b":{"a":1}}"#, "[[[[[[[[[[1]]]]]]]]]]", #"{"":""}"#, "\"\u{7F}\"",
    ]

    @Test(arguments: wellFormed)
    func acceptsWhatRFC8259Accepts(_ text: String) {
        let failure = Self.check(text)
        #expect(failure == nil, "\(text.debugDescription) → \(failure.map(String.init(describing:)) ?? "")")
    }

    @Test func duplicateKeysAreRejectedWherever() {
        for text in [
            #"{"a":1,"a":1}"#, #"{"a":1,"b":2,"a":3}"#, #"[{"x":{"y":1,"y":2}}]"#, #"{"\u0061":1,"a":2}"#, #"{"工":1,"\u5de5":2}"#,
            // Canonically equivalent names: one name to the Swift decoders downstream.
            "{\"\u{E9}\":1,\"e\u{301}\":2}",
            "{" + (0..<40).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + ",\"k39\":0}",
        ] {
            let failure = Self.check(text)
            #expect(failure?.kind == .duplicateKey, "\(text) → \(failure.map(String.init(describing:)) ?? "accepted")")
        }
        #expect(Self.check("{" + (0..<40).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + "}") == nil)
        #expect(Self.check(#"[{"a":1},{"a":1}]"#) == nil)
        #expect(Self.check(#"{"a":{"a":{"a":1}}}"#) == nil)
    }

    @Test func nestingIsCappedWithoutRecursion() {
        let max = CloudEventLimits.maxJSONDepth
        func nested(_ depth: Int) -> String { String(repeating: "[", count: depth) + String(repeating: "]", count: depth) }
        #expect(Self.check(nested(max)) == nil)
        #expect(Self.check(nested(max + 1))?.kind == .tooDeep)
        #expect(Self.check(String(repeating: "{\"a\":", count: max) + "1" + String(repeating: "}", count: max)) == nil)
        #expect(Self.check(String(repeating: "{\"a\":", count: max + 1) + "1" + String(repeating: "}", count: max + 1))?.kind == .tooDeep)
        // Far deeper than any stack would survive by recursion, and unterminated.
        #expect(Self.check(String(repeating: "[", count: 1_000_000))?.kind == .tooDeep)
        #expect(Self.check(String(repeating: "[{\"a\":", count: 500_000))?.kind == .tooDeep)
    }

    @Test func failuresSayWhereAndWhat() throws {
        let failure = try #require(Self.check(#"{"summary":"ok","n":01}"#))
        #expect(failure.offset == 20)
        #expect(failure.description == "malformed number at byte 20")
        let duplicate = try #require(Self.check(#"{"工单":1,"工单":2}"#))
        #expect(duplicate.description.contains("\"工单\" appears twice"))
    }
}
