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

/// The ha profile: PostgreSQL, a three-node RabbitMQ cluster, two instances of each service, its
/// own Prometheus and Grafana; the default profile as it was.
extension ComposeFileTests {
    static let defaultServices: Set<String> = ["rabbitmq", "intake", "itr-router", "ltc-extractor", "ipd-feedback", "prometheus", "grafana"]
    static let rabbitNodes = ["rabbitmq-1", "rabbitmq-2", "rabbitmq-3"]
    static var instances: [String] { products.keys.flatMap { ["\($0)-1", "\($0)-2"] } }
    static var haServices: Set<String> { Set(instances + rabbitNodes + ["postgres", "prometheus-ha", "grafana-ha"]) }

    /// `intake` → `intake`, `itr-router` → `itr_router`: how the compose secrets are named.
    static func secretName(_ product: String) -> String { product.replacingOccurrences(of: "-", with: "_") }

    func text(_ path: String) throws -> String {
        try String(contentsOf: TestEnvironment.packageRoot.appendingPathComponent(path), encoding: .utf8)
    }

    /// The file behind a declared compose secret, relative to deploy/secrets/.
    func secretFile(_ name: String) throws -> String {
        let secrets = try #require(try compose()["secrets"] as? [String: [String: Any]])
        let file = try #require(secrets[name]?["file"] as? String, "secret \(name) is not declared")
        #expect(file.hasPrefix("./deploy/secrets/"), "\(name): \(file)")
        return String(file.dropFirst("./deploy/secrets/".count))
    }

    func healthyDependencies(_ service: [String: Any]) -> Set<String> {
        let depends = (service["depends_on"] as? [String: Any]) ?? [:]
        return Set(depends.compactMap { name, value in (value as? [String: Any])?["condition"] as? String == "service_healthy" ? name : nil })
    }

    @Test func everyHAServiceIsInProfileHAAndTheDefaultProfileIsUnchanged() throws {
        let services = try services()
        let withoutProfile = Set(services.filter { $0.value["profiles"] == nil }.keys)
        #expect(withoutProfile == Self.defaultServices, "the default profile is \(withoutProfile.sorted())")
        let ha = Set(services.filter { $0.value["profiles"] != nil }.keys)
        #expect(ha == Self.haServices, "the ha profile is \(ha.sorted())")
        for name in ha {
            #expect(services[name]?["profiles"] as? [String] == ["ha"], "\(name): \(services[name]?["profiles"] ?? "")")
            #expect((services[name]?["healthcheck"] as? [String: Any])?["test"] != nil, "\(name) has no healthcheck")
            // nothing of the ha profile waits for a service of the default one
            let depends = Set(((services[name]?["depends_on"] as? [String: Any]) ?? [:]).keys)
            #expect(depends.isDisjoint(with: Self.defaultServices), "\(name) depends on \(depends.intersection(Self.defaultServices))")
        }
        // `docker compose --profile ha up -d grafana-ha` (README) starts every ha service and nothing else.
        var started: Set<String> = [], next = ["grafana-ha"]
        while let name = next.popLast() {
            guard started.insert(name).inserted else { continue }
            next += ((services[name]?["depends_on"] as? [String: Any]) ?? [:]).keys
        }
        #expect(started == Self.haServices, "grafana-ha does not start \(Self.haServices.subtracting(started).sorted())")
    }

    @Test func twoInstancesOfEachServiceOnPostgresAndEveryNode() throws {
        let services = try services()
        var names: [String] = []
        for (product, port) in Self.products {
            let single = try #require(services[product]?["environment"] as? [String: Any])
            for index in 1...2 {
                let name = "\(product)-\(index)"
                let service = try #require(services[name], "missing service \(name)")
                #expect((service["build"] as? [String: Any]).flatMap { $0["args"] as? [String: Any] }?["PRODUCT"] as? String == product)
                #expect(service["image"] as? String == "itr/\(product):latest")
                let env = try #require(service["environment"] as? [String: Any])
                names.append(try #require(env["ITR_INSTANCE"] as? String, "\(name) has no ITR_INSTANCE"))
                #expect(env["ITR_INSTANCE"] as? String == name)
                #expect(env["HTTP_PORT"] as? String == "\(port)")
                // Every node, TLS on 5671, the service's own user, no password in the URL.
                let urls = try #require(env["AMQP_URL"] as? String).split(separator: ",").map(String.init)
                #expect(urls == Self.rabbitNodes.map { "amqps://\(product)@\($0):5671/%2f" }, "\(name): \(urls)")
                for key in ["AMQP_PASSWORD_FILE", "AMQP_TLS_CA", "API_TOKENS_FILE", "HTTP_HOST", "CONFIG_DIR", "LOG_LEVEL", "ITR_CLOCK_SPEED"] {
                    #expect(env[key] as? String == single[key] as? String, "\(name): \(key) differs from \(product)'s")
                }
                // Its service's database URL as a secret that is declared and that secrets.sh makes.
                let urlSecret = "database_url_\(Self.secretName(product))"
                #expect(env["DATABASE_URL_FILE"] as? String == "/run/secrets/\(urlSecret)")
                #expect(env["DATABASE_URL"] == nil)
                #expect(try secretFile(urlSecret) == "database-url/\(product)")
                #expect(Set(service["secrets"] as? [String] ?? []) == ["itr_ca", "api_tokens", "amqp_\(Self.secretName(product))", urlSecret])
                // Nothing on disk: no DATA_DIR, no volume but the configuration, /data a tmpfs.
                #expect(env["DATA_DIR"] == nil, "\(name) sets DATA_DIR")
                #expect(service["volumes"] as? [String] == ["./deploy/config:/app/deploy/config:ro"], "\(name): \(service["volumes"] ?? "")")
                #expect(Set(service["tmpfs"] as? [String] ?? []) == ["/tmp", "/data"])
                #expect(service["read_only"] as? Bool == true)
                #expect(healthyDependencies(service) == Set(Self.rabbitNodes + ["postgres"]), "\(name) waits for \(healthyDependencies(service))")
                let test = try #require((service["healthcheck"] as? [String: Any])?["test"] as? [String])
                #expect(test.joined(separator: " ").contains("127.0.0.1:\(port)/readyz"))
                // Instance 1 on the default profile's port, instance 2 not published.
                let ports = service["ports"] as? [String]
                #expect(ports == (index == 1 ? ["${ITR_PUBLISH_HOST:-127.0.0.1}:\(port):\(port)"] : nil), "\(name): \(ports ?? [])")
            }
        }
        #expect(Set(names).count == names.count && names.count == 8, "ITR_INSTANCE values: \(names)")
    }

    @Test func theThreeNodesFormOneClusterOnOneCookie() throws {
        let services = try services()
        let single = try #require(services["rabbitmq"])
        let singleVolumes = try #require(single["volumes"] as? [String]).filter { $0.hasPrefix("./") }
        let clusterMount = "./deploy/rabbitmq/cluster.conf:/etc/rabbitmq/conf.d/30-itr-cluster.conf:ro"
        var dataVolumes: Set<String> = []
        for (index, name) in Self.rabbitNodes.enumerated() {
            let node = try #require(services[name], "missing service \(name)")
            #expect(node["image"] as? String == single["image"] as? String)
            #expect(node["entrypoint"] as? [String] == single["entrypoint"] as? [String])
            #expect(node["hostname"] as? String == name, "the node name is rabbit@\(name)")
            #expect(Set(node["secrets"] as? [String] ?? []) == Set((single["secrets"] as? [String] ?? []) + ["rabbitmq_erlang_cookie"]))
            let volumes = try #require(node["volumes"] as? [String])
            #expect(Set(volumes.filter { $0.hasPrefix("./") }) == Set(singleVolumes + [clusterMount]), "\(name): \(volumes)")
            let data = try #require(volumes.first { $0.hasSuffix(":/var/lib/rabbitmq") }, "\(name) has no data volume")
            dataVolumes.insert(data)
            #expect(data == "\(name)-data:/var/lib/rabbitmq")
            #expect((node["healthcheck"] as? [String: Any])?["test"] as? [String] == (single["healthcheck"] as? [String: Any])?["test"] as? [String])
            // amqps on the single node's port for rabbitmq-1 only.
            #expect(node["ports"] as? [String] == (index == 0 ? ["${ITR_PUBLISH_HOST:-127.0.0.1}:5671:5671"] : nil), "\(name)")
        }
        #expect(dataVolumes.count == 3, "each node its own volume")
        #expect(try secretFile("rabbitmq_erlang_cookie") == "rabbitmq-erlang-cookie")
        let conf = try text("deploy/rabbitmq/cluster.conf")
        #expect(conf.contains("\ncluster_formation.peer_discovery_backend = classic_config\n"))
        for (index, name) in Self.rabbitNodes.enumerated() {
            #expect(conf.contains("\ncluster_formation.classic_config.nodes.\(index + 1) = rabbit@\(name)\n"), "cluster.conf does not name \(name)")
        }
        // Quorum queues on all three nodes.
        #expect(conf.contains("\nquorum_queue.continuous_membership_reconciliation.enabled = true\n"))
        #expect(conf.contains("\nquorum_queue.continuous_membership_reconciliation.target_group_size = 3\n"))
        // The entrypoint puts the cookie in place, readable by its owner only, the rabbitmq user.
        let entrypoint = try text("deploy/rabbitmq/entrypoint.sh")
        #expect(entrypoint.contains("/run/secrets/rabbitmq_erlang_cookie") && entrypoint.contains("/.erlang.cookie"))
        #expect(entrypoint.contains("chmod 400") && entrypoint.contains("chown rabbitmq:rabbitmq") && entrypoint.contains("mktemp"))
    }

    @Test func postgresIsHealthyAndItsInitScriptMakesTheFourRoles() async throws {
        let services = try services()
        let postgres = try #require(services["postgres"], "missing service postgres")
        let image = try #require(postgres["image"] as? String)
        #expect(image.range(of: #"^postgres:15\.[0-9]+$"#, options: .regularExpression) != nil, "postgres pinned to a 15.x release: \(image)")
        let env = try #require(postgres["environment"] as? [String: Any])
        #expect(env["POSTGRES_PASSWORD_FILE"] as? String == "/run/secrets/postgres_admin_password")
        #expect(env["POSTGRES_PASSWORD"] == nil)
        #expect(env["POSTGRES_DB"] as? String == "itr")
        #expect(try secretFile("postgres_admin_password") == "postgres/itr_admin")
        let roleSecrets = Self.products.keys.map { "postgres_\(Self.secretName($0))" }
        #expect(Set(postgres["secrets"] as? [String] ?? []) == Set(roleSecrets + ["postgres_admin_password"]))
        for product in Self.products.keys {
            #expect(try secretFile("postgres_\(Self.secretName(product))") == "postgres/\(product)")
        }
        let test = try #require((postgres["healthcheck"] as? [String: Any])?["test"] as? [String])
        #expect(test.contains("pg_isready") && test.contains("127.0.0.1"), "\(test)")
        let volumes = try #require(postgres["volumes"] as? [String])
        #expect(volumes.contains("postgres-data:/var/lib/postgresql/data"))
        let mount = try #require(volumes.first { $0.hasPrefix("./deploy/postgres/init.sh:") }, "init.sh is not mounted")
        #expect(mount.contains(":/docker-entrypoint-initdb.d/") && mount.hasSuffix(".sh:ro"), "\(mount)")
        // Every instance waits for it to be healthy.
        for name in Self.instances { #expect(healthyDependencies(services[name] ?? [:]).contains("postgres"), "\(name)") }

        let path = TestEnvironment.packageRoot.appendingPathComponent("deploy/postgres/init.sh").path
        #expect(FileManager.default.isExecutableFile(atPath: path), "init.sh is not executable (the image sources it then)")
        let script = try text("deploy/postgres/init.sh")
        #expect(script.contains("SERVICES=(intake itr-router ltc-extractor ipd-feedback)"), "init.sh names the four roles")
        for needed in ["CREATE ROLE %I LOGIN", "ALTER ROLE", "LOGIN PASSWORD :'password'", "REVOKE ALL ON DATABASE", "REVOKE ALL ON SCHEMA public FROM PUBLIC",
            "GRANT CONNECT, CREATE, TEMPORARY ON DATABASE", "CREATE SCHEMA IF NOT EXISTS \\\"$service\\\" AUTHORIZATION \\\"$service\\\"",
            "postgres_${service//-/_}"]
        {
            #expect(script.contains(needed), "init.sh lacks \(needed)")
        }
        // The shell scripts of the deployment parse.
        for file in ["deploy/postgres/init.sh", "deploy/rabbitmq/entrypoint.sh", "deploy/scripts/secrets.sh"] {
            let (status, output) = try await runCommand(["bash", "-n", TestEnvironment.packageRoot.appendingPathComponent(file).path])
            #expect(status == 0, "bash -n \(file): \(output)")
        }
    }

    @Test func prometheusOfTheHAProfileScrapesEveryInstanceAndNode() throws {
        let config = try #require(try Yams.load(yaml: try text("deploy/prometheus/prometheus-ha.yml")) as? [String: Any])
        let jobs = try #require(config["scrape_configs"] as? [[String: Any]])
        func targets(_ job: String) -> [String] {
            let found = jobs.first { $0["job_name"] as? String == job }
            return ((found?["static_configs"] as? [[String: Any]]) ?? []).flatMap { ($0["targets"] as? [String]) ?? [] }
        }
        let expected = Self.products.flatMap { product, port in ["\(product)-1:\(port)", "\(product)-2:\(port)"] }
        #expect(Set(targets("itr")) == Set(expected), "\(targets("itr"))")
        #expect(Set(targets("rabbitmq")) == Set(Self.rabbitNodes.map { "\($0):15692" }))
        let itr = try #require(jobs.first { $0["job_name"] as? String == "itr" })
        #expect((itr["authorization"] as? [String: Any])?["credentials_file"] as? String == "/run/secrets/prometheus_token")
        let services = try services()
        let prometheus = try #require(services["prometheus-ha"])
        #expect((prometheus["volumes"] as? [String] ?? []).contains("./deploy/prometheus/prometheus-ha.yml:/etc/prometheus/prometheus.yml:ro"))
        #expect(prometheus["command"] as? [String] == services["prometheus"]?["command"] as? [String])
        #expect(prometheus["secrets"] as? [String] == ["prometheus_token"])
        let aliases = ((prometheus["networks"] as? [String: Any])?["default"] as? [String: Any])?["aliases"] as? [String]
        #expect(aliases == ["prometheus"], "Grafana's data source is http://prometheus:9090")
        #expect(healthyDependencies(prometheus) == Set(Self.instances + Self.rabbitNodes))
        #expect(healthyDependencies(try #require(services["grafana-ha"])) == ["prometheus-ha"])
        // Named volumes of the ha profile are declared, none shared with the default profile's.
        let declared = try #require(try compose()["volumes"] as? [String: Any])
        for name in ["postgres-data", "rabbitmq-1-data", "rabbitmq-2-data", "rabbitmq-3-data", "prometheus-ha-data", "grafana-ha-data"] {
            #expect(declared.keys.contains(name), "volume \(name) not declared")
        }
        let namedVolumes = { (service: String) in
            Set(((services[service]?["volumes"] as? [String]) ?? []).filter { !$0.hasPrefix("./") }.map { String($0.split(separator: ":")[0]) })
        }
        let defaultVolumes = Self.defaultServices.reduce(into: Set<String>()) { $0.formUnion(namedVolumes($1)) }
        let haVolumes = Self.haServices.reduce(into: Set<String>()) { $0.formUnion(namedVolumes($1)) }
        #expect(defaultVolumes.isDisjoint(with: haVolumes), "shared: \(defaultVolumes.intersection(haVolumes))")
    }

    @Test func secretsShMakesTheHASecretsWithTheirModesAndKeepsThem() async throws {
        let made = FileManager.default.temporaryDirectory.appendingPathComponent("itr-secrets-ha-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: made) }
        let script = TestEnvironment.packageRoot.appendingPathComponent("deploy/scripts/secrets.sh").path
        let first = try await runCommand(["bash", script, "init", "--dir", made.path])
        #expect(first.status == 0, "secrets.sh init: \(first.output)")
        func read(_ path: String) throws -> String { try String(contentsOf: made.appendingPathComponent(path), encoding: .utf8) }
        func mode(_ path: String) throws -> Int {
            try #require(try FileManager.default.attributesOfItem(atPath: made.appendingPathComponent(path).path)[.posixPermissions] as? Int)
        }
        // Read by a container's root only (the entry points, before they step down): 0600. Read
        // by the containers' non-root users (postgres, itr; bind-mounted with the host's mode and
        // owner): 0644 like every other secret, inside the 0700 directory.
        #expect(try mode("") == 0o700)
        #expect(try mode("rabbitmq-erlang-cookie") == 0o600)
        #expect(try mode("postgres/itr_admin") == 0o600)
        var files = ["rabbitmq-erlang-cookie", "postgres/itr_admin"]
        for product in Self.products.keys {
            #expect(try mode("postgres/\(product)") == 0o644)
            #expect(try mode("database-url/\(product)") == 0o644)
            let password = try read("postgres/\(product)")
            #expect(password.count >= 32 && !password.contains("\n"))
            #expect(try read("database-url/\(product)") == "postgres://\(product):\(password)@postgres:5432/itr")
            files += ["postgres/\(product)", "database-url/\(product)"]
        }
        #expect(Set(try files.map { try read($0) }).count == files.count, "every secret differs from the others")
        for file in files where !file.hasPrefix("database-url/") {
            #expect(!first.output.contains(try read(file)), "secrets.sh printed \(file)")
        }
        // The broker certificate names every node (the services verify rabbitmq-1..3).
        let names = try await runCommand(["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in", made.appendingPathComponent("tls/server.pem").path])
        #expect(names.status == 0, "\(names.output)")
        for host in ["localhost", "rabbitmq"] + Self.rabbitNodes {
            #expect(names.output.range(of: "DNS:\(host)(,|\\s|$)", options: .regularExpression) != nil, "the certificate does not name \(host): \(names.output)")
        }
        // A second run keeps everything, byte for byte, and mode for mode.
        func snapshot() throws -> [String: String] {
            var result: [String: String] = [:]
            for path in try FileManager.default.subpathsOfDirectory(atPath: made.path) {
                var isDirectory: ObjCBool = false
                _ = FileManager.default.fileExists(atPath: made.appendingPathComponent(path).path, isDirectory: &isDirectory)
                let content = isDirectory.boolValue ? "" : try Data(contentsOf: made.appendingPathComponent(path)).base64EncodedString()
                result[path] = "\(String(try mode(path), radix: 8)) \(content)"
            }
            return result
        }
        let before = try snapshot()
        let second = try await runCommand(["bash", script, "init", "--dir", made.path])
        #expect(second.status == 0, "secrets.sh init again: \(second.output)")
        #expect(second.output.contains("(0 made, the rest kept)"), "\(second.output)")
        let after = try snapshot()
        #expect(Set(after.keys) == Set(before.keys), "files made or removed: \(Set(after.keys).symmetricDifference(before.keys).sorted())")
        #expect(before.keys.filter { before[$0] != after[$0] }.isEmpty, "changed: \(before.keys.filter { before[$0] != after[$0] }.sorted())")
    }
}
