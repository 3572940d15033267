import AMQPClient
import Foundation
import ServiceKit

/// The part of a RabbitMQ definitions file (`rabbitmqctl export_definitions`, `load_definitions`)
/// that describes the topology: virtual hosts, exchanges, queues and bindings.
///
/// Users and permissions are deliberately absent: the broker's user comes from the deployment's
/// secrets (see `deploy/rabbitmq/entrypoint.sh`), never from a file in the repository. Unknown
/// keys of an exported file (users, policies, parameters, ...) are ignored when decoding.
public struct RabbitDefinitions: Codable, Sendable, Hashable {
    public struct VirtualHost: Codable, Sendable, Hashable {
        public var name: String
    }

    public struct Exchange: Codable, Sendable, Hashable {
        public var name: String
        public var vhost: String
        public var type: String
        public var durable: Bool
        public var autoDelete: Bool
        public var `internal`: Bool
        public var arguments: [String: DefinitionValue]

        enum CodingKeys: String, CodingKey {
            case name, vhost, type, durable, `internal`, arguments
            case autoDelete = "auto_delete"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            vhost = try c.decodeIfPresent(String.self, forKey: .vhost) ?? "/"
            type = try c.decode(String.self, forKey: .type)
            durable = try c.decodeIfPresent(Bool.self, forKey: .durable) ?? true
            autoDelete = try c.decodeIfPresent(Bool.self, forKey: .autoDelete) ?? false
            self.internal = try c.decodeIfPresent(Bool.self, forKey: .internal) ?? false
            arguments = try c.decodeIfPresent([String: DefinitionValue].self, forKey: .arguments) ?? [:]
        }

        init(
            name: String, vhost: String, type: String, durable: Bool, autoDelete: Bool, internal: Bool,
            arguments: [String: DefinitionValue]
        ) {
            self.name = name
            self.vhost = vhost
            self.type = type
            self.durable = durable
            self.autoDelete = autoDelete
            self.internal = `internal`
            self.arguments = arguments
        }
    }

    public struct Queue: Codable, Sendable, Hashable {
        public var name: String
        public var vhost: String
        public var durable: Bool
        public var autoDelete: Bool
        public var arguments: [String: DefinitionValue]

        enum CodingKeys: String, CodingKey {
            case name, vhost, durable, arguments
            case autoDelete = "auto_delete"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            vhost = try c.decodeIfPresent(String.self, forKey: .vhost) ?? "/"
            durable = try c.decodeIfPresent(Bool.self, forKey: .durable) ?? true
            autoDelete = try c.decodeIfPresent(Bool.self, forKey: .autoDelete) ?? false
            arguments = try c.decodeIfPresent([String: DefinitionValue].self, forKey: .arguments) ?? [:]
        }

        init(name: String, vhost: String, durable: Bool, autoDelete: Bool, arguments: [String: DefinitionValue]) {
            self.name = name
            self.vhost = vhost
            self.durable = durable
            self.autoDelete = autoDelete
            self.arguments = arguments
        }
    }

    public struct Binding: Codable, Sendable, Hashable {
        public var source: String
        public var vhost: String
        public var destination: String
        public var destinationType: String
        public var routingKey: String
        public var arguments: [String: DefinitionValue]

        enum CodingKeys: String, CodingKey {
            case source, vhost, destination, arguments
            case destinationType = "destination_type"
            case routingKey = "routing_key"
        }
    }

    public var vhosts: [VirtualHost]
    public var exchanges: [Exchange]
    public var queues: [Queue]
    public var bindings: [Binding]

    public init(vhosts: [VirtualHost], exchanges: [Exchange], queues: [Queue], bindings: [Binding]) {
        self.vhosts = vhosts
        self.exchanges = exchanges
        self.queues = queues
        self.bindings = bindings
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vhosts = try c.decodeIfPresent([VirtualHost].self, forKey: .vhosts) ?? []
        exchanges = try c.decodeIfPresent([Exchange].self, forKey: .exchanges) ?? []
        queues = try c.decodeIfPresent([Queue].self, forKey: .queues) ?? []
        bindings = try c.decodeIfPresent([Binding].self, forKey: .bindings) ?? []
    }

    /// The definitions of `topology` in virtual host `vhost` (default: the whole ITR topology in `/`).
    public init(topology: AMQPTopology = ITRTopology.all, vhost: String = "/") {
        vhosts = [VirtualHost(name: vhost)]
        exchanges = topology.exchanges.map {
            Exchange(
                name: $0.name, vhost: vhost, type: $0.type.rawValue, durable: $0.durable, autoDelete: $0.autoDelete,
                internal: $0.internal, arguments: DefinitionValue.table($0.arguments))
        }
        queues = topology.queues.map {
            Queue(
                name: $0.name, vhost: vhost, durable: $0.durable, autoDelete: $0.autoDelete,
                arguments: DefinitionValue.table($0.arguments))
        }
        bindings = topology.bindings.map {
            Binding(
                source: $0.exchange, vhost: vhost, destination: $0.queue, destinationType: "queue",
                routingKey: $0.routingKey, arguments: DefinitionValue.table($0.arguments))
        }
        self = normalized()
    }

    /// Only what belongs to `vhost`, with the virtual host renamed to `as` (to compare a test
    /// vhost's export with the shipped file).
    public func restricted(to vhost: String, renamedTo newName: String = "/") -> RabbitDefinitions {
        RabbitDefinitions(
            vhosts: vhosts.contains { $0.name == vhost } ? [VirtualHost(name: newName)] : [],
            exchanges: exchanges.filter { $0.vhost == vhost && !$0.name.isEmpty && !$0.name.hasPrefix("amq.") }
                .map { var e = $0; e.vhost = newName; return e },
            queues: queues.filter { $0.vhost == vhost }.map { var q = $0; q.vhost = newName; return q },
            bindings: bindings.filter { $0.vhost == vhost }.map { var b = $0; b.vhost = newName; return b }
        ).normalized()
    }

    /// Sorted so that two equal topologies compare equal whatever their declaration order.
    public func normalized() -> RabbitDefinitions {
        var copy = self
        copy.vhosts.sort { $0.name < $1.name }
        copy.exchanges.sort { $0.name < $1.name }
        copy.queues.sort { $0.name < $1.name }
        copy.bindings.sort {
            ($0.source, $0.destination, $0.routingKey) < ($1.source, $1.destination, $1.routingKey)
        }
        return copy
    }

    /// Pretty-printed JSON with sorted keys and a final newline: the content of
    /// `deploy/rabbitmq/definitions.json`.
    public func rendered() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(self)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    public static func decode(_ data: Data) throws -> RabbitDefinitions {
        try JSONDecoder().decode(RabbitDefinitions.self, from: data)
    }
}

/// A queue, exchange or binding argument as it appears in a definitions file.
public enum DefinitionValue: Codable, Sendable, Hashable, CustomStringConvertible {
    case string(String)
    case integer(Int64)
    case bool(Bool)

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int64.self) {
            self = .integer(i)
        } else {
            self = .string(try c.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let s): try c.encode(s)
        case .integer(let i): try c.encode(i)
        case .bool(let b): try c.encode(b)
        }
    }

    public var description: String {
        switch self {
        case .string(let s): return s
        case .integer(let i): return "\(i)"
        case .bool(let b): return "\(b)"
        }
    }

    /// Field-table values the ITR topology uses (strings, integers, booleans); others as text.
    static func table(_ table: AMQPTable) -> [String: DefinitionValue] {
        table.mapValues { value in
            if let i = value.intValue {
                return .integer(i)
            } else if case .bool(let b) = value {
                return .bool(b)
            } else {
                return .string(value.stringValue ?? "\(value)")
            }
        }
    }
}
