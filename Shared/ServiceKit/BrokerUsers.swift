import AMQPClient
import Foundation

/// The broker users of a deployment and exactly the rights each needs, derived from the
/// topology (``ITRTopology``), so the rights follow the code: one user per service, one per
/// outside role. Exported with the topology (`itrctl topology export`) as
/// `deploy/rabbitmq/users.json` (RabbitMQ definitions without passwords); `broker.sh start`
/// creates them on a local broker, `deploy/scripts/secrets.sh` adds `password_hash` for compose.
///
/// RabbitMQ's rules, which the derivation follows: declaring an exchange or queue needs
/// *configure* on it (and *read* on it plus *write* on its alternate or dead-letter exchange
/// when it names one); `queue.bind` needs *write* on the queue and *read* on the exchange;
/// publishing needs *write* on the exchange (`amq.default` for the default exchange);
/// consuming needs *read* on the queue. Topic permissions restrict the routing keys a user
/// may publish on `itr.ingress` (topic authorisation).
public enum BrokerUsers {
    /// A user's permissions on the vhost: three regular expressions over resource names.
    public struct Permission: Sendable, Hashable, Codable {
        public var user: String
        public var vhost: String = "/"
        public var configure: String
        public var write: String
        public var read: String
    }

    /// A user's topic permission on one topic exchange: the routing keys it may publish/consume.
    public struct TopicPermission: Sendable, Hashable, Codable {
        public var user: String
        public var vhost: String = "/"
        public var exchange: String
        public var write: String
        public var read: String
    }

    /// The outside roles: the service desk's tools, upstream systems, R&D, sales.
    public static let deskUser = "itr-desk"
    public static let upstreamUser = "itr-upstream"
    public static let rndUser = "itr-rnd"
    public static let salesUser = "itr-sales"

    /// Every user, services first (user name = product name).
    public static var names: [String] {
        ITRTopology.serviceQueues.map(\.product) + [deskUser, upstreamUser, rndUser, salesUser]
    }

    /// A regular expression that matches exactly `names` (none: matches nothing).
    public static func exactly(_ names: [String]) -> String {
        let escaped = Set(names.map { $0.isEmpty ? "amq\\.default" : escape($0) }).sorted()
        guard !escaped.isEmpty else { return "" }
        return "^(" + escaped.joined(separator: "|") + ")$"
    }

    static func escape(_ name: String) -> String {
        var out = ""
        for character in name {
            if "\\^$.|?*+()[]{}".contains(character) { out.append("\\") }
            out.append(character)
        }
        return out
    }

    /// What a service declares, binds, publishes to and consumes.
    public static func permission(forService product: String) -> Permission {
        let topology = ITRTopology.topology(for: product)
        let exchanges = topology.exchanges.map(\.name)
        let queues = topology.queues.map(\.name)
        // Exchanges declared with an alternate exchange / queues with a dead-letter exchange:
        // write on those (and the broker routes there on the service's behalf).
        let alternates = topology.exchanges.compactMap { $0.arguments["alternate-exchange"]?.stringValue }
            + topology.queues.compactMap { $0.arguments["x-dead-letter-exchange"]?.stringValue }
        // The outbox publishes events to itr.events, refused input to <queue>.dlq through itr.dlx;
        // intake keeps refused reports in itr.rejected through the default exchange.
        var publishes = [ITRNames.eventsExchange, ITRNames.deadLetterExchange]
        if product == "intake" { publishes.append("") }
        let boundQueues = topology.bindings.map(\.queue)
        let boundExchanges = topology.bindings.map(\.exchange)
        return Permission(
            user: product,
            configure: exactly(exchanges + queues),
            write: exactly(publishes + alternates + boundQueues),
            // read: what it binds from, the exchanges and queues it declares with an alternate or
            // dead-letter exchange (RabbitMQ checks read on them), and its own queue.
            read: exactly(
                boundExchanges + topology.exchanges.filter { $0.arguments["alternate-exchange"] != nil }.map(\.name)
                    + topology.queues.filter { $0.arguments["x-dead-letter-exchange"] != nil }.map(\.name)))
    }

    /// Every user's permissions.
    public static var permissions: [Permission] {
        ITRTopology.serviceQueues.map { permission(forService: $0.product) } + [
            // Desk tools: publish ticket actions; learn ticket ids from itr.events through a
            // server-named (amq.gen-*) or itr-desk.* temporary queue of their own.
            Permission(
                user: deskUser, configure: "^(amq\\.gen-.*|itr-desk\\..*)$",
                write: "^(itr\\.ingress|amq\\.gen-.*|itr-desk\\..*)$", read: "^(itr\\.events|amq\\.gen-.*|itr-desk\\..*)$"),
            // Upstream systems: publish reports.
            Permission(user: upstreamUser, configure: "", write: "^itr\\.ingress$", read: ""),
            // R&D: publish defect status, consume the defect feed.
            Permission(user: rndUser, configure: "", write: "^itr\\.ingress$", read: "^feed\\.defects$"),
            // Sales: consume the opportunity feed, send an opportunity's status back (opportunity.*).
            Permission(user: salesUser, configure: "", write: "^itr\\.ingress$", read: "^feed\\.opportunities$"),
        ]
    }

    /// The routing keys each outside role may publish on `itr.ingress`.
    public static var topicPermissions: [TopicPermission] {
        [
            TopicPermission(user: deskUser, exchange: ITRNames.ingressExchange, write: "^ticket\\.", read: ".*"),
            TopicPermission(user: upstreamUser, exchange: ITRNames.ingressExchange, write: "^report\\.", read: ".*"),
            TopicPermission(user: rndUser, exchange: ITRNames.ingressExchange, write: "^defect\\.", read: ".*"),
            TopicPermission(user: salesUser, exchange: ITRNames.ingressExchange, write: "^opportunity\\.", read: ".*"),
        ]
    }
}

extension BrokerUsers {
    /// `deploy/rabbitmq/users.json`: the users (no password: the deployment adds it), the vhost,
    /// their permissions and topic permissions, in RabbitMQ's definitions format.
    public static func definitionsJSON(vhost: String = "/") throws -> String {
        struct User: Encodable {
            var name: String
            var tags: [String] = []
        }
        struct VHost: Encodable { var name: String }
        struct Definitions: Encodable {
            var users: [User]
            var vhosts: [VHost]
            var permissions: [Permission]
            var topic_permissions: [TopicPermission]
        }
        let definitions = Definitions(
            users: names.map { User(name: $0) }, vhosts: [VHost(name: vhost)],
            permissions: permissions.map { var p = $0; p.vhost = vhost; return p },
            topic_permissions: topicPermissions.map { var p = $0; p.vhost = vhost; return p })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(definitions), as: UTF8.self) + "\n"
    }
}
