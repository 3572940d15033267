import AMQPClient
import Foundation
import Logging
import Testing

@testable import ServiceKit

@Suite struct ServiceSettingsTests {
    @Test func defaultsPerProduct() throws {
        let router = try ServiceSettings(product: "itr-router", environment: [:], arguments: ["itr-router"])
        #expect(router.amqpURL == "amqp://guest:guest@127.0.0.1:5672/%2f")
        #expect(router.httpHost == "127.0.0.1")
        #expect(router.httpPort == 8081)
        #expect(router.dataDirectory == "./data/itr-router")
        #expect(router.configDirectory == "./deploy/config")
        #expect(router.logLevel == .info)
        #expect(router.databasePath.hasSuffix("data/itr-router/itr-router.sqlite"))
        let ports = try ["intake", "ltc-extractor", "ipd-feedback"].map {
            try ServiceSettings(product: $0, environment: [:], arguments: [$0]).httpPort
        }
        #expect(ports == [8080, 8082, 8083])
    }

    @Test func environmentThenFlagsOverride() throws {
        let env = [
            "AMQP_URL": "amqps://u:p@broker.example:5671/itr", "HTTP_HOST": "0.0.0.0", "HTTP_PORT": "9000",
            "DATA_DIR": "/var/lib/intake", "CONFIG_DIR": "/etc/itr", "LOG_LEVEL": "warning",
        ]
        let fromEnv = try ServiceSettings(product: "intake", environment: env, arguments: ["intake"])
        #expect(fromEnv.amqpURL == "amqps://u:p@broker.example:5671/itr")
        #expect(fromEnv.httpHost == "0.0.0.0")
        #expect(fromEnv.httpPort == 9000)
        #expect(fromEnv.dataDirectory == "/var/lib/intake")
        #expect(fromEnv.configDirectory == "/etc/itr")
        #expect(fromEnv.logLevel == .warning)

        let overridden = try ServiceSettings(
            product: "intake", environment: env,
            arguments: ["intake", "--http-port", "9100", "--log-level=DEBUG", "--data-dir", "/tmp/数据", "--amqp-url",
                "amqp://localhost"])
        #expect(overridden.httpPort == 9100)
        #expect(overridden.logLevel == .debug)
        #expect(overridden.dataDirectory == "/tmp/数据")
        #expect(overridden.amqpURL == "amqp://localhost")
        #expect(overridden.httpHost == "0.0.0.0")
    }

    @Test func invalidPortNamesTheVariable() {
        #expect {
            try ServiceSettings(product: "intake", environment: ["HTTP_PORT": "80a"], arguments: ["intake"])
        } throws: { error in
            "\(error)" == #"HTTP_PORT: expected a port 1-65535, got "80a""#
        }
        #expect(throws: ServiceSettingsError.self) {
            try ServiceSettings(product: "intake", environment: ["HTTP_PORT": "70000"], arguments: ["intake"])
        }
    }

    @Test func invalidValuesAndFlags() {
        func failure(_ env: [String: String], _ args: [String] = ["x"]) -> ServiceSettingsError? {
            do {
                _ = try ServiceSettings(product: "intake", environment: env, arguments: args)
                return nil
            } catch { return error }
        }
        #expect(failure(["LOG_LEVEL": "verbose"])?.variable == "LOG_LEVEL")
        #expect(failure(["LOG_LEVEL": "verbose"])?.description.contains("debug, info, warning, error") == true)
        let url = failure(["AMQP_URL": "http://user:secret@host"])
        #expect(url?.variable == "AMQP_URL")
        #expect(url?.description.contains("secret") == false)
        #expect(failure(["HTTP_HOST": ""])?.variable == "HTTP_HOST")
        #expect(failure([:], ["x", "--nope", "1"])?.code == .unknownFlag)
        #expect(failure([:], ["x", "--http-port"])?.code == .missingValue)
        #expect(failure([:], ["x", "--http-port", "0"])?.variable == "HTTP_PORT")
        #expect(failure([:], ["x", "--help"])?.code == .helpRequested)
    }

    @Test func instanceNameDefaultsToHostAndPidAndIsChecked() throws {
        let defaulted = try ServiceSettings(product: "intake", environment: [:], arguments: ["intake"])
        #expect(defaulted.instance.hasSuffix("-\(getpid())") && defaulted.instance.count > "-\(getpid())".count)
        let named = try ServiceSettings(product: "intake", environment: ["ITR_INSTANCE": "intake-b.zone2"], arguments: ["intake"])
        #expect(named.instance == "intake-b.zone2")
        for bad in ["two words", String(repeating: "x", count: 65), "实例-1", "a/b"] {
            #expect {
                _ = try ServiceSettings(product: "intake", environment: ["ITR_INSTANCE": bad], arguments: ["intake"])
            } throws: { error in "\(error)".contains("ITR_INSTANCE") }
        }
    }

    @Test func inboxRetentionDays() throws {
        let defaults = try ServiceSettings(product: "intake", environment: [:], arguments: ["intake"])
        #expect(defaults.inboxRetentionDays == 30)
        #expect(defaults.inboxRetention == 30 * 86_400)
        let week = try ServiceSettings(product: "intake", environment: ["ITR_INBOX_RETENTION_DAYS": " 7 "], arguments: ["intake"])
        #expect(week.inboxRetentionDays == 7)
        #expect(week.inboxRetention == 7 * 86_400)
        let flag = try ServiceSettings(
            product: "intake", environment: ["ITR_INBOX_RETENTION_DAYS": "7"], arguments: ["intake", "--itr-inbox-retention-days=3650"])
        #expect(flag.inboxRetentionDays == 3650)
        for bad in ["0", "3651", "-1", "30d", "1.5", ""] {
            #expect {
                try ServiceSettings(product: "intake", environment: ["ITR_INBOX_RETENTION_DAYS": bad], arguments: ["intake"])
            } throws: { error in
                "\(error)" == "ITR_INBOX_RETENTION_DAYS: expected whole days from 1 to 3650, got \"\(bad)\""
            }
        }
        #expect(ServiceSettings.usage(product: "intake").contains("ITR_INBOX_RETENTION_DAYS"))
    }
}

@Suite struct MetricsListenerSettingsTests {
    @Test func theMetricsListenerDefaultsToLoopbackAtTheHTTPPortPlus1000() throws {
        let router = try ServiceSettings(product: "itr-router", environment: [:], arguments: ["itr-router"])
        #expect(router.metricsHost == "127.0.0.1" && router.metricsPort == 9081)
        let moved = try ServiceSettings(product: "intake", environment: ["HTTP_PORT": "18080"], arguments: ["intake"])
        #expect(moved.metricsPort == 19080)
        let off = try ServiceSettings(product: "intake", environment: ["METRICS_PORT": "0"], arguments: ["intake"])
        #expect(off.metricsPort == nil)
        let high = try ServiceSettings(product: "intake", environment: ["HTTP_PORT": "65000"], arguments: ["intake"])
        #expect(high.metricsPort == nil, "no port above 65535")
        let flags = try ServiceSettings(
            product: "intake", environment: [:], arguments: ["intake", "--metrics-host", "0.0.0.0", "--metrics-port=9999"])
        #expect(flags.metricsHost == "0.0.0.0" && flags.metricsPort == 9999)
        for (variable, value) in [("METRICS_PORT", "8080"), ("METRICS_PORT", "70000"), ("METRICS_PORT", "x"), ("METRICS_HOST", "")] {
            do {
                _ = try ServiceSettings(product: "intake", environment: [variable: value], arguments: ["intake"])
                Issue.record("accepted \(variable)=\(value)")
            } catch {
                #expect(error.variable == variable, "\(variable)=\(value): \(error)")
            }
        }
    }
}

@Suite struct SecretFilesTests {
    func file(_ content: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("secret-\(UUID().uuidString)")
        try content.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func thePasswordFileGoesIntoTheURLsUserAndNothingSecretIsShown() throws {
        let settings = try ServiceSettings(
            product: "itr-router",
            environment: ["AMQP_URL": "amqps://itr-router@rabbitmq:5671/%2f", "AMQP_PASSWORD_FILE": try file("p@ss:w/rd 密码\n")],
            arguments: ["itr-router"])
        let configuration = try AMQPConfiguration(url: settings.amqpURL)
        #expect(configuration.user == "itr-router" && configuration.password == "p@ss:w/rd 密码" && configuration.tls != nil)
        #expect(!configuration.redactedURL.contains("p@ss"))
        let whole = try ServiceSettings(
            product: "intake", environment: ["AMQP_URL_FILE": try file("amqp://intake:x@127.0.0.1:5672/%2f\n")], arguments: ["intake"])
        #expect(whole.amqpURL == "amqp://intake:x@127.0.0.1:5672/%2f")
    }

    @Test func aDatabaseURLIsReadFromTheEnvironmentOrAFile() throws {
        let url = "postgres://ipd-feedback:pw@127.0.0.1:5442/itr?sslmode=disable"
        for environment in [["DATABASE_URL": url], ["DATABASE_URL_FILE": try file(url + "\n")]] {
            let settings = try ServiceSettings(product: "ipd-feedback", environment: environment, arguments: ["ipd-feedback"])
            #expect(settings.databaseURL == url)
        }
        #expect(try ServiceSettings(product: "ipd-feedback", environment: [:], arguments: ["ipd-feedback"]).databaseURL == nil)
    }

    @Test func aMissingEmptyOrDoubledSecretIsNamed() throws {
        let empty = try file("\n")
        let cases: [([String: String], String, String)] = [
            (["AMQP_PASSWORD_FILE": "/nonexistent/secret"], "AMQP_PASSWORD_FILE", "cannot read /nonexistent/secret"),
            (["AMQP_PASSWORD_FILE": empty], "AMQP_PASSWORD_FILE", "is empty"),
            (["AMQP_URL": "amqp://a:b@h/%2f", "AMQP_URL_FILE": empty], "AMQP_URL_FILE", "not both"),
            (["AMQP_URL": "amqps://rabbitmq:5671/%2f", "AMQP_PASSWORD": "x"], "AMQP_PASSWORD", "must name the user"),
            (["DATABASE_URL_FILE": try file("mysql://u:secretpw@db/itr")], "DATABASE_URL", "expected postgres://"),
            (["DATABASE_URL": "postgres://u:secretpw@db"], "DATABASE_URL", "no database name"),
            (["DATABASE_URL": "postgres://u:secretpw@db/itr?sslmode=maybe"], "DATABASE_URL", "sslmode"),
            (["ITR_OUTBOX_OWNER_TIMEOUT_SECONDS": "0"], "ITR_OUTBOX_OWNER_TIMEOUT_SECONDS", "seconds from 1 to 3600"),
        ]
        for (environment, variable, message) in cases {
            do {
                _ = try ServiceSettings(product: "intake", environment: environment, arguments: ["intake"])
                Issue.record("accepted \(environment)")
            } catch {
                #expect(error.variable == variable && error.message.contains(message), "\(environment) → \(error)")
                #expect(!error.description.contains("secretpw"))
            }
        }
    }
}
