import ITRConfig

/// The fields of a report the rules look at.
public struct ReportFacts: Sendable, Hashable, Codable {
    public var title: String
    public var description: String
    public var categoryHint: String?
    /// phone, portal, email, field, monitoring ...
    public var channel: String?
    public var alarmCode: String?
    public var productLine: String?
    public var model: String?
    public var version: String?
    public var component: String?
    public var severity: Severity?
    public var affectedUsers: Int?
    public var affectedSites: Int?
    /// The contract's sales region.
    public var region: String?

    public init(
        title: String, description: String = "", categoryHint: String? = nil, channel: String? = nil,
        alarmCode: String? = nil, productLine: String? = nil, model: String? = nil, version: String? = nil,
        component: String? = nil, severity: Severity? = nil, affectedUsers: Int? = nil, affectedSites: Int? = nil,
        region: String? = nil
    ) {
        self.title = title
        self.description = description
        self.categoryHint = categoryHint
        self.channel = channel
        self.alarmCode = alarmCode
        self.productLine = productLine
        self.model = model
        self.version = version
        self.component = component
        self.severity = severity
        self.affectedUsers = affectedUsers
        self.affectedSites = affectedSites
        self.region = region
    }
}
