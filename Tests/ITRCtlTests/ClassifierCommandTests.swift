import Foundation
import ITRTestSupport
import Testing
import TextClassifier

/// `itrctl classifier train / eval / predict / corrections` as a user runs them, on a small
/// fixture (no broker): the files they write, what they print, and their errors.
@Suite struct ClassifierCommandTests {
    static var itrctl: String { TestEnvironment.packageRoot.appendingPathComponent(".build/debug/itrctl").path }
    static let fixtures = TestEnvironment.packageRoot.appendingPathComponent("Tests/ITRCtlTests/Fixtures")
    let work = FileManager.default.temporaryDirectory.appendingPathComponent("itrctl-classifier-\(UUID().uuidString)")

    func itrctl(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        return try await runCommand([Self.itrctl] + arguments, in: work)
    }

    @Test func trainThenEvalOnAFixture() async throws {
        let model = work.appendingPathComponent("m/fixture.itrm").path
        let train = Self.fixtures.appendingPathComponent("classifier-train.jsonl").path
        let trained = try await itrctl([
            "classifier", "train", "--data", train, "--no-corrections", "--out", model, "--version", "fixture-1",
            "--buckets", "4096", "--epochs", "30",
        ])
        #expect(trained.status == 0, "\(trained.output)")
        #expect(trained.output.contains("version fixture-1, 24 corpus examples + 0 corrections"))
        let read = try ModelFile.read(path: model)
        #expect(read.version == "fixture-1" && read.labels.count == 7 && read.header.features.buckets == 4096)
        #expect(read.header.training?.examples == 24)

        // The same data and options: the same weights (the header's trainedAt aside).
        let again = work.appendingPathComponent("m/again.itrm").path
        _ = try await itrctl([
            "classifier", "train", "--data", train, "--no-corrections", "--out", again, "--version", "fixture-1",
            "--buckets", "4096", "--epochs", "30",
        ])
        let second = try ModelFile.read(path: again)
        for text in ["fan failure", "如何配置", "投诉"] { #expect(second.predict(text) == read.predict(text)) }

        let eval = try await itrctl(["classifier", "eval", "--model", model, Self.fixtures.appendingPathComponent("classifier-eval.jsonl").path, "--misses", "3"])
        #expect(eval.status == 0, "\(eval.output)")
        #expect(eval.output.contains("model fixture-1 on 6 reports: accuracy"))
        #expect(eval.output.contains("lang=zh") && eval.output.contains("lang=en"))
        #expect(eval.output.contains("confusion (rows: truth, columns: predicted)"))
        #expect(eval.output.contains("hardware-fault"))

        let json = try await itrctl(["classifier", "eval", "--model", model, Self.fixtures.appendingPathComponent("classifier-eval.jsonl").path, "--json"])
        let report = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any]
        #expect(report?["reports"] as? Int == 6 && report?["model"] as? String == "fixture-1")
        let accuracy = try #require(report?["accuracy"] as? Double)
        #expect(accuracy >= 0.8)
        #expect((report?["confusion"] as? [[Int]])?.count == 7)

        let predicted = try await itrctl(["classifier", "predict", "--model", model, "风扇", "故障"])
        #expect(predicted.output.split(separator: "\n").first?.hasPrefix("hardware-fault") == true)

        // Corrections from a file are added (twice by default).
        let corrections = work.appendingPathComponent("corrections.jsonl")
        try #"{"title":"设备噪音很大","serviceType":"complaint","ticketId":"T-1","reason":"customer is angry"}"#
            .write(to: corrections, atomically: true, encoding: .utf8)
        let withCorrections = try await itrctl([
            "classifier", "train", "--data", train, "--corrections", corrections.path, "--out", model, "--buckets", "4096",
        ])
        #expect(withCorrections.output.contains("24 corpus examples + 1 corrections (x2)"), "\(withCorrections.output)")
        #expect(try ModelFile.read(path: model).version.hasPrefix("service-type-"))
    }

    @Test func errorsAreSpecific() async throws {
        let bad = work.appendingPathComponent("bad.jsonl")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        try "{\"title\": \"x\", \"serviceType\": \"hardware-fault\"}\n{\"title\": \"y\", \"serviceType\": \"printer-jam\"}\n"
            .write(to: bad, atomically: true, encoding: .utf8)
        let unknownLabel = try await itrctl(["classifier", "train", "--data", bad.path, "--no-corrections", "--out", "m.itrm"])
        #expect(unknownLabel.status != 0)
        #expect(unknownLabel.output.contains("bad.jsonl:2:") && unknownLabel.output.contains("unknown label \"printer-jam\""))

        let noModel = try await itrctl(["classifier", "eval", "--model", "nowhere.itrm", bad.path])
        #expect(noModel.status != 0 && noModel.output.contains("model file not found"))

        try Data("garbage".utf8).write(to: work.appendingPathComponent("garbage.itrm"))
        let garbage = try await itrctl(["classifier", "eval", "--model", "garbage.itrm", bad.path])
        #expect(garbage.status != 0 && garbage.output.contains("not an ITR text-classifier model"))

        // Asking a router that is not there says what to do instead.
        let noRouter = try await itrctl([
            "classifier", "train", "--data", Self.fixtures.appendingPathComponent("classifier-train.jsonl").path,
            "--router-url", "http://127.0.0.1:9", "--out", "m.itrm",
        ])
        #expect(noRouter.status != 0 && noRouter.output.contains("--no-corrections"))
        let both = try await itrctl(["classifier", "train", "--no-corrections", "--corrections", bad.path])
        #expect(both.status != 0 && both.output.contains("exclude each other"))
    }

    @Test func theRouterRefusesToStartWithABadModel() async throws {
        // A copy of the shipped configuration with the model file cut in half.
        let config = work.appendingPathComponent("config")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: TestEnvironment.packageRoot.appendingPathComponent("deploy/config"), to: config)
        let model = config.appendingPathComponent("models/service-type.itrm")
        let bytes = try Data(contentsOf: model)
        try bytes.prefix(bytes.count / 2).write(to: model)
        let router = TestEnvironment.packageRoot.appendingPathComponent(".build/debug/itr-router").path
        let result = try await runCommand(
            [router], environment: ["CONFIG_DIR": config.path, "DATA_DIR": work.appendingPathComponent("data").path, "HTTP_PORT": "1"])
        #expect(result.status == 1)
        #expect(result.output.contains("itr-router: invalid configuration"), "\(result.output)")
        #expect(result.output.contains("models/service-type.itrm: model file corrupt or truncated"), "\(result.output)")
    }
}
