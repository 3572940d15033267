import Foundation

/// How to reach and authenticate with the broker. Built from an `AMQP_URL`
/// (`amqp://user:pass@host:port/vhost`, `amqps://` for TLS) plus optional environment settings.
///
/// `AMQP_URL` may list the nodes of a cluster, comma-separated
/// (`amqp://u:p@h1:5672/%2f,amqp://u:p@h2:5673/%2f`): all with the same scheme, user, password
/// and vhost (settings in the query are taken from the first). The client connects to the first
/// node that answers, and when a connection cannot be made or is lost it goes on to the next one
/// in the list (after the last, the first again), so it fails over and back with the cluster.
///
/// URL query parameters (RabbitMQ URI spec style): `heartbeat`, `connection_name`,
/// `connection_timeout` (ms), `cacertfile`, `certfile`, `keyfile`, `verify` (`verify_peer` | `verify_none`),
/// `auth_mechanism` (`plain` | `external`).
/// Environment (overrides the query): `AMQP_HEARTBEAT`, `AMQP_CONNECTION_NAME`,
/// `AMQP_TLS_CA`, `AMQP_TLS_CERT`, `AMQP_TLS_KEY` (each a file path or inline PEM text),
/// `AMQP_TLS_VERIFY` (`true` | `false`).
public struct AMQPConfiguration: Sendable, Hashable {
    public struct TLS: Sendable, Hashable {
        /// PEM file of the CA(s) that signed the broker's certificate.
        public var caFile: String?
        /// PEM client certificate and key (mutual TLS).
        public var certificateFile: String?
        public var keyFile: String?
        /// Verify the broker's certificate chain and host name (default true).
        public var verifyPeer: Bool

        public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil, verifyPeer: Bool = true) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.verifyPeer = verifyPeer
        }
    }

    public enum AuthMechanism: String, Sendable, Hashable { case plain, external }

    /// A broker node to connect to.
    public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// The first node to try.
    public var host: String
    public var port: Int
    /// The other nodes of the cluster, tried in turn after `host:port` (see the type's documentation).
    public var failoverEndpoints: [Endpoint] = []
    public var vhost: String
    public var user: String
    public var password: String
    public var tls: TLS?
    public var authMechanism: AuthMechanism
    /// Heartbeat interval requested from the broker, in seconds (0 disables heartbeats).
    public var heartbeat: Int
    /// Shown in the management UI and in `rabbitmqctl list_connections`.
    public var connectionName: String
    public var connectTimeout: Duration
    public var frameMax: Int
    /// Most unconfirmed publishes in flight per connection; further publishes wait.
    public var confirmWindow: Int
    /// Largest message body this client publishes or takes in: the broker's `max_message_size`
    /// (this project configures 16 MiB). A bigger publish fails alone with `.unencodable`; a
    /// bigger delivery is handed over with only its first ``keptPrefixOfOversized`` bytes and
    /// ``AMQPDelivery/defect`` set, and no buffer of the announced size is ever reserved.
    /// `AMQP_MAX_MESSAGE_SIZE` (bytes) overrides it.
    public var maximumMessageSize: Int
    /// Most bytes of delivered, not yet settled message bodies a connection holds; above it
    /// the connection stops reading from the broker (TCP back-pressure; heartbeats go on)
    /// until settlements bring it under. Bounds a consumer's memory by bytes, not only by
    /// prefetch. `AMQP_MAX_UNSETTLED_BYTES` overrides it.
    public var maximumUnsettledBytes: Int
    /// How much of an oversized delivery's body is kept (for the rejection copy).
    public static let keptPrefixOfOversized = 64 << 10
    /// Reconnect back-off: first delay and cap (full jitter in between).
    public var reconnectInitialDelay: Duration
    public var reconnectMaxDelay: Duration

    public init(
        host: String = "127.0.0.1", port: Int? = nil, vhost: String = "/", user: String = "guest",
        password: String = "guest", tls: TLS? = nil, authMechanism: AuthMechanism = .plain, heartbeat: Int = 30,
        connectionName: String = "itr", connectTimeout: Duration = .seconds(10), frameMax: Int = 131_072,
        confirmWindow: Int = 1024, maximumMessageSize: Int = AMQPMessageLimits.defaultMaximumBodyBytes,
        maximumUnsettledBytes: Int = 64 << 20, reconnectInitialDelay: Duration = .milliseconds(100),
        reconnectMaxDelay: Duration = .seconds(10)
    ) {
        self.host = host
        self.port = port ?? (tls == nil ? 5672 : 5671)
        self.vhost = vhost
        self.user = user
        self.password = password
        self.tls = tls
        self.authMechanism = authMechanism
        self.heartbeat = heartbeat
        self.connectionName = connectionName
        self.connectTimeout = connectTimeout
        self.frameMax = frameMax
        self.confirmWindow = confirmWindow
        self.maximumMessageSize = maximumMessageSize
        self.maximumUnsettledBytes = maximumUnsettledBytes
        self.reconnectInitialDelay = reconnectInitialDelay
        self.reconnectMaxDelay = reconnectMaxDelay
    }

    /// Every node, in the order they are tried: `host:port` first, then ``failoverEndpoints``.
    public var endpoints: [Endpoint] { [Endpoint(host: host, port: port)] + failoverEndpoints }

    /// Parses an `AMQP_URL` (one URL, or a comma-separated list of a cluster's nodes) and applies
    /// the TLS / heartbeat / name settings from `environment`.
    public init(url: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(AMQPError) {
        let urls = url.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard urls.count > 1 else {
            try self.init(singleURL: url, environment: environment)
            return
        }
        func invalid(_ why: String) -> AMQPError {
            AMQPError(.invalidConfiguration, "AMQP_URL \(urls.map(Self.redacted).joined(separator: ",")): \(why)")
        }
        if let empty = urls.firstIndex(where: \.isEmpty) {
            throw invalid("URL \(empty + 1) of the comma-separated list is empty")
        }
        try self.init(singleURL: urls[0], environment: environment)
        var seen: Set<Endpoint> = [Endpoint(host: host, port: port)]
        for (index, other) in urls.enumerated().dropFirst() {
            let node = try AMQPConfiguration(singleURL: other, environment: environment)
            guard (node.tls == nil) == (tls == nil), node.user == user, node.password == password, node.vhost == vhost else {
                throw invalid("URL \(index + 1) (\(Self.redacted(other))) differs from the first in scheme, user, password or vhost; the nodes of one cluster share them")
            }
            let endpoint = Endpoint(host: node.host, port: node.port)
            guard seen.insert(endpoint).inserted else { throw invalid("node \(endpoint) is listed twice") }
            failoverEndpoints.append(endpoint)
        }
    }

    private init(singleURL url: String, environment: [String: String]) throws(AMQPError) {
        func invalid(_ why: String) -> AMQPError {
            AMQPError(.invalidConfiguration, "AMQP_URL \(Self.redacted(url)): \(why)")
        }
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw invalid("not a URL; expected amqp://user:pass@host:port/vhost")
        }
        guard scheme == "amqp" || scheme == "amqps" else {
            throw invalid("scheme must be amqp or amqps, got \(scheme)")
        }
        var host = components.percentEncodedHost.flatMap { $0.removingPercentEncoding } ?? ""
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }  // IPv6 literal
        self.init(host: host.isEmpty ? "127.0.0.1" : host)
        if let port = components.port {
            guard (1...65535).contains(port) else { throw invalid("port \(port) out of range") }
            self.port = port
        } else {
            self.port = scheme == "amqps" ? 5671 : 5672
        }
        if let user = components.percentEncodedUser { self.user = user.removingPercentEncoding ?? user }
        if let password = components.percentEncodedPassword { self.password = password.removingPercentEncoding ?? password }
        let path = components.percentEncodedPath
        if path.isEmpty || path == "/" {
            self.vhost = "/"
        } else {
            let raw = String(path.dropFirst())
            guard !raw.contains("/") else { throw invalid("vhost must be one path segment (encode / as %2f)") }
            self.vhost = raw.removingPercentEncoding ?? raw
        }
        if scheme == "amqps" { self.tls = TLS() }

        var query: [String: String] = [:]
        for item in components.queryItems ?? [] { query[item.name] = item.value ?? "" }
        func setting(_ env: String, _ q: String) -> String? {
            if let v = environment[env], !v.isEmpty { return v }
            return query[q]
        }
        if let hb = setting("AMQP_HEARTBEAT", "heartbeat") {
            guard let v = Int(hb), (0...3600).contains(v) else { throw invalid("heartbeat must be 0-3600 seconds, got \(hb)") }
            self.heartbeat = v
        }
        if let name = setting("AMQP_CONNECTION_NAME", "connection_name") { self.connectionName = name }
        if let size = setting("AMQP_MAX_MESSAGE_SIZE", "max_message_size") {
            guard let v = Int(size), (4096...(512 << 20)).contains(v) else {
                throw invalid("max_message_size must be 4096-536870912 bytes, got \(size)")
            }
            self.maximumMessageSize = v
        }
        if let size = setting("AMQP_MAX_UNSETTLED_BYTES", "max_unsettled_bytes") {
            guard let v = Int(size), v >= 65536 else { throw invalid("max_unsettled_bytes must be at least 65536 bytes, got \(size)") }
            self.maximumUnsettledBytes = v
        }
        if let t = query["connection_timeout"] {
            guard let ms = Int(t), ms > 0 else { throw invalid("connection_timeout must be milliseconds, got \(t)") }
            self.connectTimeout = .milliseconds(ms)
        }
        if let mech = query["auth_mechanism"] {
            guard let m = AuthMechanism(rawValue: mech.lowercased()) else { throw invalid("auth_mechanism must be plain or external") }
            self.authMechanism = m
        }
        let ca = setting("AMQP_TLS_CA", "cacertfile")
        let cert = setting("AMQP_TLS_CERT", "certfile")
        let key = setting("AMQP_TLS_KEY", "keyfile")
        let verify = setting("AMQP_TLS_VERIFY", "verify")
        if ca != nil || cert != nil || key != nil || verify != nil, self.tls == nil {
            throw invalid("TLS settings given but the scheme is amqp; use amqps://")
        }
        if var tls = self.tls {
            tls.caFile = try ca.map { (v) throws(AMQPError) in try Self.pemFile(v, name: "AMQP_TLS_CA") }
            tls.certificateFile = try cert.map { (v) throws(AMQPError) in try Self.pemFile(v, name: "AMQP_TLS_CERT") }
            tls.keyFile = try key.map { (v) throws(AMQPError) in try Self.pemFile(v, name: "AMQP_TLS_KEY") }
            if (tls.certificateFile == nil) != (tls.keyFile == nil) {
                throw invalid("a client certificate needs both AMQP_TLS_CERT and AMQP_TLS_KEY")
            }
            if let verify {
                switch verify.lowercased() {
                case "verify_peer", "true", "1", "yes": tls.verifyPeer = true
                case "verify_none", "false", "0", "no": tls.verifyPeer = false
                default: throw invalid("verify must be verify_peer or verify_none, got \(verify)")
                }
            }
            self.tls = tls
        }
    }

    /// The URL with its password hidden, for logs (every node of a cluster's list).
    public var redactedURL: String {
        endpoints.map(redactedURL(of:)).joined(separator: ",")
    }

    /// The URL of one node with the password hidden.
    public func redactedURL(of endpoint: Endpoint) -> String {
        "\(tls == nil ? "amqp" : "amqps")://\(user):***@\(endpoint)/\(vhost == "/" ? "%2f" : vhost)"
    }

    static func redacted(_ url: String) -> String {
        guard var c = URLComponents(string: url) else { return "<unparseable>" }
        if c.password != nil { c.password = "***" }
        return c.string ?? "<unparseable>"
    }

    /// A file path as is, or inline PEM text written to a private temporary file.
    static func pemFile(_ value: String, name: String) throws(AMQPError) -> String {
        if value.hasPrefix("-----BEGIN") {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("itr-amqp-tls-\(getpid())")
            do {
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                let file = dir.appendingPathComponent(name.lowercased() + ".pem")
                try Data(value.utf8).write(to: file, options: .atomic)
                try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
                return file.path
            } catch {
                throw AMQPError(.invalidConfiguration, "\(name): cannot write the inline PEM to a file: \(error)")
            }
        }
        guard FileManager.default.isReadableFile(atPath: value) else {
            throw AMQPError(.invalidConfiguration, "\(name): file \(value) does not exist or is not readable")
        }
        return value
    }
}
