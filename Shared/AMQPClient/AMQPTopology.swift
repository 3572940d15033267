/// Exchanges, queues and bindings a connection declares (idempotently) and re-declares
/// after every recovery.
public struct AMQPTopology: Sendable, Hashable {
    public var exchanges: [AMQPExchange]
    public var queues: [AMQPQueue]
    public var bindings: [AMQPBinding]

    public init(exchanges: [AMQPExchange] = [], queues: [AMQPQueue] = [], bindings: [AMQPBinding] = []) {
        self.exchanges = exchanges
        self.queues = queues
        self.bindings = bindings
    }

    /// This topology followed by `other`, without repeating what is already declared.
    public func merging(_ other: AMQPTopology) -> AMQPTopology {
        var merged = self
        for e in other.exchanges where !merged.exchanges.contains(e) { merged.exchanges.append(e) }
        for q in other.queues where !merged.queues.contains(q) { merged.queues.append(q) }
        for b in other.bindings where !merged.bindings.contains(b) { merged.bindings.append(b) }
        return merged
    }

    public var isEmpty: Bool { exchanges.isEmpty && queues.isEmpty && bindings.isEmpty }
}

public enum AMQPExchangeType: String, Sendable, Hashable, Codable {
    case direct, topic, fanout, headers
}

public struct AMQPExchange: Sendable, Hashable {
    public var name: String
    public var type: AMQPExchangeType
    public var durable: Bool
    public var autoDelete: Bool
    public var `internal`: Bool
    public var arguments: AMQPTable

    public init(
        name: String, type: AMQPExchangeType = .topic, durable: Bool = true, autoDelete: Bool = false,
        internal: Bool = false, arguments: AMQPTable = [:]
    ) {
        self.name = name
        self.type = type
        self.durable = durable
        self.autoDelete = autoDelete
        self.internal = `internal`
        self.arguments = arguments
    }
}

public struct AMQPQueue: Sendable, Hashable {
    public var name: String
    public var durable: Bool
    public var exclusive: Bool
    public var autoDelete: Bool
    public var arguments: AMQPTable

    public init(
        name: String, durable: Bool = true, exclusive: Bool = false, autoDelete: Bool = false,
        arguments: AMQPTable = [:]
    ) {
        self.name = name
        self.durable = durable
        self.exclusive = exclusive
        self.autoDelete = autoDelete
        self.arguments = arguments
    }

    /// A durable quorum queue; with a delivery limit a poison message is dead-lettered
    /// instead of looping forever.
    public static func quorum(
        _ name: String, deliveryLimit: Int? = nil, deadLetterExchange: String? = nil,
        deadLetterRoutingKey: String? = nil, arguments extra: AMQPTable = [:]
    ) -> AMQPQueue {
        var args: AMQPTable = ["x-queue-type": .string("quorum")]
        if let deliveryLimit { args["x-delivery-limit"] = .int64(Int64(deliveryLimit)) }
        if let deadLetterExchange { args["x-dead-letter-exchange"] = .string(deadLetterExchange) }
        if let deadLetterRoutingKey { args["x-dead-letter-routing-key"] = .string(deadLetterRoutingKey) }
        args.merge(extra) { _, new in new }
        return AMQPQueue(name: name, durable: true, arguments: args)
    }
}

public struct AMQPBinding: Sendable, Hashable {
    public var queue: String
    public var exchange: String
    public var routingKey: String
    public var arguments: AMQPTable

    public init(queue: String, exchange: String, routingKey: String, arguments: AMQPTable = [:]) {
        self.queue = queue
        self.exchange = exchange
        self.routingKey = routingKey
        self.arguments = arguments
    }
}
