import AMQPClient
import Foundation
import ITRTestSupport
import Logging
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Item 3 of issue 15 on the real engines: what `deploy/scripts/secrets.sh init` makes for the
/// compose deployment works. A broker node with TLS on the generated certificates imports the
/// generated users (password_hash only); a client verifies the broker against the generated CA
/// and logs in with a generated password (a wrong one is refused); a service started with its
/// secrets as files only (AMQP_PASSWORD_FILE, API_TOKENS_FILE) connects over amqps:// as its own
/// user, becomes ready, and answers the generated tokens by their scopes.
@Suite("compose secrets on a real broker", .serialized, .enabled(if: TestEnvironment.brokerTestsEnabled))
struct DeploymentSecretsTests {
    @Test(.timeLimit(.minutes(5)))
    func generatedSecretsWorkOverTLS() async throws {
        try TestEnvironment.requireServiceBinaries()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.uniqueName("itr-secrets"))
        let script = TestEnvironment.packageRoot.appendingPathComponent("deploy/scripts/secrets.sh").path
        let made = try await runCommand(["bash", script, "init", "--dir", dir.path])
        #expect(made.status == 0, "\(made.output)")
        let node = BrokerNode(name: "itr-secrets", port: 5695)
        try? await node.stop(purge: true)
        try await node.start(extra: ["--tls-port", "5696", "--tls-dir", dir.appendingPathComponent("tls").path])
        defer { Task { try? await node.stop(purge: true) } }
        _ = try await node.ctl("import_definitions", dir.appendingPathComponent("rabbitmq-users.json").path)

        func secret(_ path: String) throws -> String {
            try String(contentsOf: dir.appendingPathComponent(path), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let ca = dir.appendingPathComponent("tls/ca.pem").path
        let logger = Logger(label: "secrets-test")
        // The generated password over TLS, the broker verified against the generated CA.
        let admin = try AMQPConfiguration(url: "amqps://itr-admin:\(try secret("amqp/itr-admin"))@localhost:5696/%2f", environment: ["AMQP_TLS_CA": ca])
        let connection = try await AMQPConnection.connect(admin, logger: logger)
        await connection.close()
        let wrong = try AMQPConfiguration(url: "amqps://intake:not-the-password@localhost:5696/%2f", environment: ["AMQP_TLS_CA": ca])
        await #expect {
            _ = try await AMQPConnection.connect(wrong, logger: logger)
        } throws: { ($0 as? AMQPError)?.code == .authenticationFailed }

        // A service with nothing secret in its environment: password and tokens as files.
        let port = TestEnvironment.freePorts()
        let data = dir.appendingPathComponent("data").path
        let service = try await ServiceProcess.start(product: "ltc-extractor", environment: [
            "AMQP_URL": "amqps://ltc-extractor@localhost:5696/%2f",
            "AMQP_PASSWORD_FILE": dir.appendingPathComponent("amqp/ltc-extractor").path,
            "AMQP_TLS_CA": ca,
            "API_TOKENS_FILE": dir.appendingPathComponent("api-tokens").path,
            "HTTP_PORT": "\(port)", "DATA_DIR": data, "LOG_LEVEL": "warning",
            "CONFIG_DIR": TestEnvironment.packageRoot.appendingPathComponent("deploy/config").path,
        ])
        defer { Task { await service.terminate() } }
        try await service.waitReady(port: port)
        #expect(!service.log.contains(try secret("amqp/ltc-extractor")), "the password was logged")
        func get(_ token: String?) async throws -> Int {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/opportunities")!)
            if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
            let (_, response) = try await URLSession.shared.data(for: request)
            return (response as? HTTPURLResponse)?.statusCode ?? 0
        }
        #expect(try await get(try secret("tokens/sales.token")) == 200)
        #expect(try await get(try secret("tokens/rnd.token")) == 403)
        #expect(try await get(nil) == 401)
        await service.terminate()
        try await node.stop(purge: true)
        try? FileManager.default.removeItem(at: dir)
    }
}
