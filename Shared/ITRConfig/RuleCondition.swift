/// The `when:` part of an ordered rule. Every listed criterion must hold (AND);
/// inside one criterion any listed value may match (OR). An empty condition matches everything.
public struct RuleCondition: Sendable, Hashable {
    public var categoryHints: [String] = []
    public var channels: [String] = []
    public var alarmCodePrefixes: [String] = []
    public var productLines: [String] = []
    /// Lower-cased; matched as substrings of the report's title and description (Chinese included).
    public var keywords: [String] = []
    public var severities: [Severity] = []
    public var serviceTypes: [ServiceType] = []
    public var regions: [String] = []
    public var minAffectedUsers: Int?
    public var minAffectedSites: Int?

    public init() {}

    public var isCatchAll: Bool { self == RuleCondition() }

    static let keys: Set<String> = [
        "categoryHint", "channel", "alarmCodePrefix", "productLine", "keywords",
        "severity", "serviceType", "region", "minAffectedUsers", "minAffectedSites",
    ]

    /// Decodes a `when:` mapping (absent means catch-all).
    static func decode(_ node: ConfigNode?) -> RuleCondition {
        var condition = RuleCondition()
        guard let node else { return condition }
        node.checkKeys(keys)
        condition.categoryHints = node["categoryHint"]?.stringList()?.map { $0.lowercased() } ?? []
        condition.channels = node["channel"]?.stringList()?.map { $0.lowercased() } ?? []
        condition.alarmCodePrefixes = node["alarmCodePrefix"]?.stringList()?.map { $0.uppercased() } ?? []
        condition.productLines = node["productLine"]?.stringList() ?? []
        condition.keywords = node["keywords"]?.stringList()?.map { $0.lowercased() } ?? []
        condition.severities = node["severity"]?.oneOfList(Severity.self) ?? []
        condition.serviceTypes = node["serviceType"]?.oneOfList(ServiceType.self) ?? []
        condition.regions = node["region"]?.stringList() ?? []
        condition.minAffectedUsers = node["minAffectedUsers"]?.int(in: 1...Int.max)
        condition.minAffectedSites = node["minAffectedSites"]?.int(in: 1...Int.max)
        return condition
    }
}
