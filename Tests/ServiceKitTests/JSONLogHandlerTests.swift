import Foundation
import Logging
import Testing

@testable import ServiceKit

@Suite struct JSONLogHandlerTests {
    func parse(_ line: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func writesOneParseableObjectPerLine() throws {
        let sink = MemoryLogSink()
        var logger = Logger(label: "consumer") { label in
            JSONLogHandler(label: label, service: "itr-router", level: .debug, sink: sink)
        }
        logger[metadataKey: "trace_id"] = "4bf92f3577b34da6a3ce929d0e0e4736"
        logger.info(
            "工单已创建 \"quoted\"\nsecond line",
            metadata: ["ticket_id": "T-1", "event_id": "e-1", "attempt": "\(3)", "msg": "collides",
                "nested": ["a": "1", "list": ["x", "y"]]])
        logger.trace("dropped below level")
        #expect(sink.lines.count == 1)
        let line = try #require(sink.lines.first)
        #expect(!line.contains("\n"))
        let object = try parse(line)
        #expect(object["level"] as? String == "info")
        #expect(object["service"] as? String == "itr-router")
        #expect(object["logger"] as? String == "consumer")
        #expect(object["msg"] as? String == "工单已创建 \"quoted\"\nsecond line")
        #expect(object["ticket_id"] as? String == "T-1")
        #expect(object["event_id"] as? String == "e-1")
        #expect(object["trace_id"] as? String == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(object["attempt"] as? String == "3")
        #expect(object["_msg"] as? String == "collides")
        let nested = try #require(object["nested"] as? [String: Any])
        #expect(nested["list"] as? [String] == ["x", "y"])
        let ts = try #require(object["ts"] as? String)
        #expect(ts.count == 24 && ts.hasSuffix("Z") && ts.contains("."))
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let date = try #require(formatter.date(from: ts))
        #expect(abs(date.timeIntervalSinceNow) < 60)
    }

    @Test func theInstanceIsNamedWhenGiven() throws {
        let sink = MemoryLogSink()
        let logger = Logger(label: "http") { label in
            JSONLogHandler(label: label, service: "intake", instance: "intake-2", level: .info, sink: sink)
        }
        logger.info("started", metadata: ["instance": "spoofed"])
        let object = try parse(try #require(sink.lines.first))
        #expect(object["service"] as? String == "intake" && object["instance"] as? String == "intake-2")
    }

    @Test func timestampFormat() {
        #expect(JSONLogHandler.format(seconds: 0, milliseconds: 7) == "1970-01-01T00:00:00.007Z")
        #expect(JSONLogHandler.format(seconds: 1_700_000_000, milliseconds: 123) == "2023-11-14T22:13:20.123Z")
    }

    @Test func controlCharactersAreEscaped() throws {
        var line = ""
        JSONLogHandler.appendString("a\u{01}b\u{2028}", to: &line)
        #expect(line == #""a\u0001b\u2028""#)
    }

    @Test func concurrentLinesDoNotInterleave() async throws {
        let sink = MemoryLogSink()
        let logger = Logger(label: "load") { JSONLogHandler(label: $0, service: "intake", sink: sink) }
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for index in 0..<200 { logger.info("message", metadata: ["task": "\(task)", "index": "\(index)"]) }
                }
            }
        }
        #expect(sink.lines.count == 1600)
        for line in sink.lines { _ = try parse(line) }
    }

    @Test func fileDescriptorSinkWritesWholeLines() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let sink = FileDescriptorLogSink(fileDescriptor: fds[1])
        sink.write(line: #"{"msg":"一"}"#)
        sink.write(line: #"{"msg":"二"}"#)
        close(fds[1])
        let handle = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true)
        let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        #expect(text == "{\"msg\":\"一\"}\n{\"msg\":\"二\"}\n")
    }
}
