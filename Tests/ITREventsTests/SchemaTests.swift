import Foundation
import ITREvents
import ITRTestSupport
import Testing

/// The JSON Schemas and the AsyncAPI document agree with the Swift types.
@Suite struct SchemaTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let eventsDir = packageRoot.appendingPathComponent("Shared/ITREvents")

    static func runPython(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await TestEnvironment.runPython(arguments)
    }

    @Test func everyTypeHasASchemaAndAnAsyncAPIMessage() throws {
        let asyncapi = try String(contentsOf: Self.eventsDir.appendingPathComponent("asyncapi.yaml"), encoding: .utf8)
        for type in EventType.allCases {
            let file = Self.eventsDir.appendingPathComponent("Schemas/\(type.rawValue).json")
            let data = try Data(contentsOf: file)
            let schema = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(schema["$id"] as? String == type.dataschema)
            #expect(asyncapi.contains("name: \(type.rawValue)\n"), "\(type) missing in asyncapi.yaml")
            #expect(asyncapi.contains("./Schemas/\(type.rawValue).json"))
        }
        for channel in ["itr.ingress", "itr.events", "feed.defects", "feed.opportunities", "itr.rejected"] {
            #expect(asyncapi.contains(channel))
        }
    }

    @Test func swiftSamplesValidateAgainstTheSchemas() async throws {
        let samples = try Samples.all()
        #expect(Set(samples.map(\.0)) == Set(EventType.allCases))
        var body = "["
        for (i, (type, payload)) in samples.enumerated() {
            let data = try EventCoding.encode(payload)
            body += (i == 0 ? "" : ",") + "{\"type\":\"\(type.rawValue)\",\"data\":" + String(decoding: data, as: UTF8.self) + "}"
        }
        body += "]"
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("itr-samples-\(UUID().uuidString).json")
        try Data(body.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let script = Self.packageRoot.appendingPathComponent("Tests/interop/validate_schemas.py")
        let (status, output) = try await Self.runPython([script.path, Self.eventsDir.appendingPathComponent("Schemas").path, file.path])
        #expect(status == 0, "\(output)")
        #expect(output.components(separatedBy: "\n").filter { $0.hasPrefix("ok ") }.count == EventType.allCases.count)
    }

    @Test func schemasRejectWhatSwiftRejects() async throws {
        // A report with an unknown channel and no summary fails the schema too.
        let body = #"[{"type":"itr.report.submitted","data":{"sourceSystem":"s","channel":"fax","upstreamId":"u","customer":{"account":"a"},"product":{"line":"l"},"occurredAt":"2025-03-01T00:00:00Z","language":"zh"}}]"#
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("itr-bad-\(UUID().uuidString).json")
        try Data(body.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let script = Self.packageRoot.appendingPathComponent("Tests/interop/validate_schemas.py")
        let (status, output) = try await Self.runPython([script.path, Self.eventsDir.appendingPathComponent("Schemas").path, file.path])
        #expect(status != 0)
        #expect(output.contains("data.channel"))
        #expect(output.contains("summary"))
    }
}
