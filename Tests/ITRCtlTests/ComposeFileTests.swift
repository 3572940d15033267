import Foundation
import ITRTestSupport
import Testing
import Yams

/// docker-compose.yml names every service, health check, healthy dependency and volume it should.
@Suite struct ComposeFileTests {
    static let products = ["intake": 8080, "itr-router": 8081, "ltc-extractor": 8082, "ipd-feedback": 8083]

    func compose() throws -> [String: Any] {
        let text = try String(contentsOf: TestEnvironment.packageRoot.appendingPathComponent("docker-compose.yml"), encoding: .utf8)
        return try #require(try Yams.load(yaml: text) as? [String: Any])
    }

    func services() throws -> [String: [String: Any]] {
        try #require(try compose()["services"] as? [String: [String: Any]])
    }

    @Test func everyServiceIsThereWithAHealthCheck() throws {
        let services = try services()
        for name in Array(Self.products.keys) + ["rabbitmq", "prometheus", "grafana"] {
            let service = try #require(services[name], "missing service \(name)")
            let health = try #require(service["healthcheck"] as? [String: Any], "\(name) has no healthcheck")
            #expect((health["test"] as? [Any])?.isEmpty == false)
        }
    }

    @Test func theFourServicesAreBuiltConfiguredAndWaitForAHealthyBroker() throws {
        let services = try services()
        for (product, port) in Self.products {
            let service = try #require(services[product])
            let build = try #require(service["build"] as? [String: Any])
            #expect(build["dockerfile"] as? String == "deploy/Dockerfile")
            #expect((build["args"] as? [String: Any])?["PRODUCT"] as? String == product)
            let depends = try #require(service["depends_on"] as? [String: Any])
            #expect((depends["rabbitmq"] as? [String: Any])?["condition"] as? String == "service_healthy")
            let env = try #require(service["environment"] as? [String: Any])
            // TLS, the service's own broker user, the password from a secret file (none in the URL).
            let amqp = try #require(env["AMQP_URL"] as? String)
            #expect(amqp == "amqps://\(product)@rabbitmq:5671/%2f", "\(product): \(amqp)")
            let secret = "amqp_" + product.replacingOccurrences(of: "-", with: "_")
            #expect(env["AMQP_PASSWORD_FILE"] as? String == "/run/secrets/\(secret)")
            #expect(env["AMQP_TLS_CA"] as? String == "/run/secrets/itr_ca")
            #expect(env["API_TOKENS_FILE"] as? String == "/run/secrets/api_tokens", "\(product) gets the API tokens")
            #expect(Set(service["secrets"] as? [String] ?? []) == [secret, "itr_ca", "api_tokens"])
            #expect(env["HTTP_HOST"] as? String == "0.0.0.0")
            #expect(env["HTTP_PORT"] as? String == "\(port)")
            #expect(env["DATA_DIR"] as? String == "/data")
            let volumes = try #require(service["volumes"] as? [String])
            #expect(volumes.contains("\(product)-data:/data"))
            #expect(volumes.contains("./deploy/config:/app/deploy/config:ro"))
            let test = try #require((service["healthcheck"] as? [String: Any])?["test"] as? [String])
            #expect(test.joined(separator: " ").contains("127.0.0.1:\(port)/readyz"))
        }
    }

    @Test func brokerLoadsTheDefinitionsWithAUserFromSecrets() throws {
        let rabbit = try #require(try services()["rabbitmq"])
        #expect((rabbit["image"] as? String)?.contains("management") == true)
        let volumes = try #require(rabbit["volumes"] as? [String])
        #expect(volumes.contains("./deploy/rabbitmq/definitions.json:/etc/itr/definitions.json:ro"))
        #expect(volumes.contains("./deploy/rabbitmq/rabbitmq.conf:/etc/rabbitmq/rabbitmq.conf:ro"))
        #expect(volumes.contains("rabbitmq-data:/var/lib/rabbitmq"))
        #expect(Set(rabbit["secrets"] as? [String] ?? []) == ["rabbitmq_users", "itr_ca", "itr_server_cert", "itr_server_key"])
        let conf = try String(
            contentsOf: TestEnvironment.packageRoot.appendingPathComponent("deploy/rabbitmq/rabbitmq.conf"), encoding: .utf8)
        // TLS only.
        #expect(conf.contains("\nlisteners.tcp = none\n") && conf.contains("\nlisteners.ssl.default = 5671\n"))
        #expect(conf.contains("ssl_options.certfile") && conf.contains("ssl_options.keyfile") && conf.contains("ssl_options.cacertfile"))
        #expect(conf.contains("definitions.local.path = /var/lib/rabbitmq/itr-definitions"))
        #expect(conf.contains("prometheus.tcp.port = 15692"))
        let plugins = try String(
            contentsOf: TestEnvironment.packageRoot.appendingPathComponent("deploy/rabbitmq/enabled_plugins"), encoding: .utf8)
        #expect(plugins.contains("rabbitmq_prometheus"))
    }

    @Test func namedVolumesAndSecretsAreDeclared() async throws {
        let root = try compose()
        let volumes = try #require(root["volumes"] as? [String: Any])
        for name in Self.products.keys.map({ "\($0)-data" }) + ["rabbitmq-data", "prometheus-data", "grafana-data"] {
            #expect(volumes.keys.contains(name), "volume \(name) not declared")
        }
        // Every secret a service uses is declared, and every declared one is a file secrets.sh makes.
        let secrets = try #require(root["secrets"] as? [String: [String: Any]])
        let used = Set(try services().values.flatMap { ($0["secrets"] as? [String]) ?? [] })
        #expect(used.isSubset(of: Set(secrets.keys)), "undeclared: \(used.subtracting(secrets.keys))")
        #expect(Set(secrets.keys).isSubset(of: used), "declared, unused: \(Set(secrets.keys).subtracting(used))")
        let made = FileManager.default.temporaryDirectory.appendingPathComponent("itr-secrets-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: made) }
        let script = TestEnvironment.packageRoot.appendingPathComponent("deploy/scripts/secrets.sh").path
        let (status, output) = try await runCommand(["bash", script, "init", "--dir", made.path])
        #expect(status == 0, "secrets.sh init: \(output)")
        for (name, secret) in secrets {
            let file = try #require(secret["file"] as? String, "\(name) is not a file secret")
            #expect(file.hasPrefix("./deploy/secrets/"), "\(name): \(file)")
            let relative = String(file.dropFirst("./deploy/secrets/".count))
            #expect(FileManager.default.fileExists(atPath: made.appendingPathComponent(relative).path), "secrets.sh does not make \(file)")
        }
        #expect(!output.contains(try String(contentsOf: made.appendingPathComponent("amqp/intake"), encoding: .utf8)), "a secret was printed")
        // The users' boot definitions: password_hash only, never a clear password.
        let users = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: made.appendingPathComponent("rabbitmq-users.json"))) as? [String: Any])
        for user in try #require(users["users"] as? [[String: Any]]) {
            #expect(user["password"] == nil && (user["password_hash"] as? String)?.isEmpty == false, "\(user["name"] ?? "")")
            #expect(user["hashing_algorithm"] as? String == "rabbit_password_hashing_sha256")
        }
        let tokens = try String(contentsOf: made.appendingPathComponent("api-tokens"), encoding: .utf8)
        let desk = try String(contentsOf: made.appendingPathComponent("tokens/service-desk.token"), encoding: .utf8)
        #expect(!tokens.contains(desk) && tokens.contains(" service-desk tickets:read tickets:act"), "api-tokens holds hashes only")
    }

    @Test func noGuestNoClearPasswordNoSecretInTheEnvironment() throws {
        let root = TestEnvironment.packageRoot
        for file in ["docker-compose.yml", "deploy/rabbitmq/definitions.json", "deploy/rabbitmq/users.json", "deploy/rabbitmq/entrypoint.sh", "deploy/rabbitmq/rabbitmq.conf"] {
            let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
            #expect(!text.contains("guest"), "\(file) mentions guest")
        }
        let definitions = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: root.appendingPathComponent("deploy/rabbitmq/definitions.json"))) as? [String: Any])
        #expect(definitions["users"] == nil, "the topology file holds no user")
        let entrypoint = try String(contentsOf: root.appendingPathComponent("deploy/rabbitmq/entrypoint.sh"), encoding: .utf8)
        #expect(entrypoint.contains("rabbitmq_users") && !entrypoint.contains("\"password\": \""), "the entrypoint writes no password")
        for (name, service) in try services() {
            for (key, value) in (service["environment"] as? [String: Any]) ?? [:] {
                let text = "\(value)"
                let secretish = ["PASSWORD", "TOKEN", "SECRET"].contains { key.uppercased().contains($0) }
                #expect(!secretish || key.hasSuffix("_FILE") || key.hasSuffix("__FILE"), "\(name): \(key) is a secret in the environment")
                if key.hasPrefix("AMQP_URL") {
                    let userinfo = text.split(separator: "@").first.map { $0.split(separator: "/").last ?? "" } ?? ""
                    #expect(!userinfo.contains(":"), "\(name): a password in \(key)")
                }
                #expect(!text.contains("amqp://"), "\(name): \(key) is not TLS")
            }
        }
    }

    @Test func prometheusScrapesEveryServiceAndTheBroker() throws {
        let text = try String(
            contentsOf: TestEnvironment.packageRoot.appendingPathComponent("deploy/prometheus/prometheus.yml"), encoding: .utf8)
        let config = try #require(try Yams.load(yaml: text) as? [String: Any])
        let jobs = try #require(config["scrape_configs"] as? [[String: Any]])
        let targets = jobs.flatMap { job in
            ((job["static_configs"] as? [[String: Any]]) ?? []).flatMap { ($0["targets"] as? [String]) ?? [] }
        }
        for (product, port) in Self.products { #expect(targets.contains("\(product):\(port)")) }
        let itr = try #require(jobs.first { $0["job_name"] as? String == "itr" })
        let authorization = try #require(itr["authorization"] as? [String: Any], "the services' /metrics need a token")
        #expect(authorization["credentials_file"] as? String == "/run/secrets/prometheus_token")
        #expect(try services()["prometheus"]?["secrets"] as? [String] == ["prometheus_token"])
        #expect(targets.contains("rabbitmq:15692"))
    }

    @Test func grafanaDashboardIsProvisionedAndParses() throws {
        let root = TestEnvironment.packageRoot
        let data = try Data(contentsOf: root.appendingPathComponent("deploy/grafana/dashboards/itr.json"))
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        let titles = panels.compactMap { $0["title"] as? String }
        for needed in ["Throughput per stage", "Queue depth", "Dead letters", "SLA attainment", "OLA on-time rate", "Escalations",
            "Open problems", "Defects", "Opportunities", "Report → ticket latency"]
        {
            #expect(titles.contains { $0.hasPrefix(needed) }, "no panel \(needed)")
        }
        let provisioning = try String(
            contentsOf: root.appendingPathComponent("deploy/grafana/provisioning/dashboards/itr.yml"), encoding: .utf8)
        #expect(provisioning.contains("/var/lib/grafana/dashboards"))
        let compose = try services()
        let grafanaVolumes = try #require(compose["grafana"]?["volumes"] as? [String])
        #expect(grafanaVolumes.contains("./deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro"))
    }

    @Test func publishedPortsAreLoopbackUnlessOptedInAndNothingIsAnonymous() throws {
        let services = try services()
        var published: [String] = []
        for (name, service) in services {
            for port in (service["ports"] as? [Any]) ?? [] {
                let text = try #require(port as? String, "\(name): ports are written as strings")
                // host:hostPort:containerPort with the host defaulting to loopback.
                #expect(text.hasPrefix("${ITR_PUBLISH_HOST:-127.0.0.1}:"), "\(name) publishes \(text) on every interface")
                published.append(String(text.split(separator: ":").dropLast().last ?? ""))
            }
        }
        #expect(Set(published) == ["5671", "8080", "8081", "8082", "8083", "9090", "3000"], "\(published)")
        // The management UI and the broker's own metrics stay inside the compose network.
        #expect(!published.contains("15672") && !published.contains("15692"))
        let grafana = try #require(services["grafana"]?["environment"] as? [String: Any])
        #expect(grafana["GF_AUTH_ANONYMOUS_ENABLED"] as? String == "false")
        #expect(grafana["GF_AUTH_ANONYMOUS_ORG_ROLE"] == nil)
        #expect(grafana["GF_SECURITY_ADMIN_PASSWORD__FILE"] as? String == "/run/secrets/grafana_admin_password")
    }

    @Test func dockerfileBuildsAnyProductAsNonRootWithAHealthCheck() throws {
        let text = try String(contentsOf: TestEnvironment.packageRoot.appendingPathComponent("deploy/Dockerfile"), encoding: .utf8)
        #expect(text.contains("FROM swift:"))
        #expect(text.contains("swift build -c release --product \"$PRODUCT\""))
        #expect(text.contains("librabbitmq4"))
        #expect(text.contains("USER itr"))
        #expect(text.contains("HEALTHCHECK"))
        #expect(text.contains("/healthz"))
        #expect(text.contains("CONFIG_DIR=/app/deploy/config"))
    }
}
