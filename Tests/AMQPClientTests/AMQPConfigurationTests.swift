import AMQPClient
import Foundation
import Testing

@Suite("AMQP_URL parsing")
struct AMQPConfigurationTests {
    @Test func defaultsAndVhostEncoding() throws {
        let c = try AMQPConfiguration(url: "amqp://guest:guest@127.0.0.1:5672/%2f", environment: [:])
        #expect(c.host == "127.0.0.1" && c.port == 5672 && c.vhost == "/" && c.user == "guest" && c.tls == nil)
        let d = try AMQPConfiguration(url: "amqp://u%40x:p%3Aw@broker.example/itr-prod?heartbeat=15&connection_name=intake", environment: [:])
        #expect(d.user == "u@x" && d.password == "p:w" && d.vhost == "itr-prod" && d.port == 5672)
        #expect(d.heartbeat == 15 && d.connectionName == "intake")
        #expect(!d.redactedURL.contains("p:w"))
    }

    @Test func aClusterIsACommaSeparatedListOfNodes() throws {
        let c = try AMQPConfiguration(
            url: "amqp://itr-router:s3cret@127.0.0.1:5672/%2f?heartbeat=5, amqp://itr-router:s3cret@127.0.0.1:5673/%2f,amqp://itr-router:s3cret@[::1]:5674/%2f",
            environment: [:])
        #expect(c.endpoints.map(\.description) == ["127.0.0.1:5672", "127.0.0.1:5673", "[::1]:5674"])
        #expect(c.host == "127.0.0.1" && c.port == 5672 && c.user == "itr-router" && c.heartbeat == 5)
        #expect(c.redactedURL == "amqp://itr-router:***@127.0.0.1:5672/%2f,amqp://itr-router:***@127.0.0.1:5673/%2f,amqp://itr-router:***@[::1]:5674/%2f")
        let single = try AMQPConfiguration(url: "amqp://guest:guest@127.0.0.1:5672/%2f", environment: [:])
        #expect(single.endpoints.count == 1 && single.failoverEndpoints.isEmpty)
    }

    @Test(arguments: [
        ("amqp://u:p@a:5672/%2f,amqp://v:p@b:5672/%2f", "differs from the first"),
        ("amqp://u:p@a:5672/%2f,amqp://u:q@b:5672/%2f", "differs from the first"),
        ("amqp://u:p@a:5672/%2f,amqps://u:p@b:5671/%2f", "differs from the first"),
        ("amqp://u:p@a:5672/%2f,amqp://u:p@b:5672/other", "differs from the first"),
        ("amqp://u:p@a:5672/%2f,amqp://u:p@a:5672/%2f", "listed twice"),
        ("amqp://u:p@a:5672/%2f,,amqp://u:p@b:5672/%2f", "URL 2 of the comma-separated list is empty"),
        ("amqp://u:p@a:5672/%2f,http://b", "scheme"),
    ])
    func aClusterListMustAgree(url: String, reason: String) {
        #expect {
            _ = try AMQPConfiguration(url: url, environment: [:])
        } throws: { error in
            let text = "\(error)"
            return text.contains(reason) && !text.contains(":p@") && !text.contains(":q@")
        }
    }

    @Test func amqpsDefaultsToPort5671WithVerification() throws {
        let c = try AMQPConfiguration(url: "amqps://guest:guest@localhost/%2f", environment: [:])
        #expect(c.port == 5671)
        #expect(c.tls?.verifyPeer == true)
    }

    @Test func inlinePEMFromTheEnvironmentIsWrittenToAPrivateFile() throws {
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
        let c = try AMQPConfiguration(url: "amqps://localhost", environment: ["AMQP_TLS_CA": pem])
        let path = try #require(c.tls?.caFile)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == pem)
    }

    @Test(arguments: [
        ("http://localhost", "scheme"),
        ("amqp://localhost:99999/", "port"),
        ("amqp://localhost/a/b", "vhost"),
        ("amqp://localhost?heartbeat=often", "heartbeat"),
        ("amqp://localhost?cacertfile=/tmp/ca.pem", "amqps"),
        ("amqps://localhost?certfile=/etc/hostname", "AMQP_TLS_KEY"),
        ("amqps://localhost?cacertfile=/nonexistent/ca.pem", "not readable"),
    ])
    func invalidURLsAreRejectedWithAReason(url: String, reason: String) {
        #expect {
            _ = try AMQPConfiguration(url: url, environment: [:])
        } throws: { error in
            guard let e = error as? AMQPError else { return false }
            return e.code == .invalidConfiguration && e.message.contains(reason)
        }
    }
}
