import ITREvents

/// `access.yaml`: who may send ticket actions over AMQP. A `itr.ticket.action` on `itr.ingress`
/// is applied only when its AMQP `user_id` property (which RabbitMQ checks against the
/// connection's user: a publish claiming another user is refused by the broker) is a broker user
/// listed here; the action is recorded as that entry's desk identity, never the body's actor.
///
///     brokerActors:
///       - user: itr-desk              # the broker user (AMQP user_id)
///         actor: service-desk-tools   # the identity its actions are recorded as
///         actions: all                # or a list: [acknowledge, note, pause, resume, ...]
///
/// Absent file or empty list: no action is accepted over AMQP (HTTP actions need a token).
public struct BrokerActors: ConfigSection, Hashable {
    public static let fileName = "access.yaml"
    public static let isRequired = false

    public struct Entry: Sendable, Hashable {
        public var user: String
        public var actor: String
        /// nil: every action kind.
        public var actions: Set<TicketActionKind>?

        public init(user: String, actor: String, actions: Set<TicketActionKind>? = nil) {
            self.user = user
            self.actor = actor
            self.actions = actions
        }

        public func allows(_ action: TicketActionKind) -> Bool { actions?.contains(action) ?? true }
    }

    public var entries: [String: Entry]

    public init(entries: [Entry] = []) {
        self.entries = Dictionary(entries.map { ($0.user, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public func entry(forUser user: String?) -> Entry? { user.flatMap { entries[$0] } }

    public static func decode(_ root: ConfigNode, core: ConfigBundle) -> BrokerActors? {
        root.checkKeys(["brokerActors"])
        var entries: [Entry] = []
        var seen: Set<String> = []
        for node in root["brokerActors"]?.list() ?? [] {
            node.checkKeys(["user", "actor", "actions"])
            guard let user = node.required("user")?.identifier(), let actor = node.required("actor")?.identifier() else { continue }
            if !seen.insert(user).inserted {
                node["user"]?.error("broker user \(user) is listed twice")
                continue
            }
            var actions: Set<TicketActionKind>?
            if let list = node["actions"] {
                let names = list.stringList() ?? []
                if names != ["all"] {
                    var kinds: Set<TicketActionKind> = []
                    for name in names {
                        guard let kind = TicketActionKind(rawValue: name) else {
                            list.error(
                                "unknown action \"\(name)\" (use all or some of \(TicketActionKind.allCases.map(\.rawValue).joined(separator: ", ")))")
                            continue
                        }
                        kinds.insert(kind)
                    }
                    if names.isEmpty { list.error("expected all or a list of action kinds") }
                    actions = kinds
                }
            }
            entries.append(Entry(user: user, actor: actor, actions: actions))
        }
        return BrokerActors(entries: entries)
    }
}
