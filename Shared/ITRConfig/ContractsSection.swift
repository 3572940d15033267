/// A customer's contract: which package covers which products, and when.
public struct Contract: Sendable, Hashable {
    public var id: String
    public var account: String
    /// The customer's name as written in the contract (often Chinese).
    public var customerName: String
    public var customerNameEn: String?
    public var package: String
    public var validFrom: LocalDate
    public var validTo: LocalDate
    /// Product line ids covered.
    public var products: [String]
    public var region: String

    public init(
        id: String, account: String, customerName: String, customerNameEn: String? = nil, package: String,
        validFrom: LocalDate, validTo: LocalDate, products: [String], region: String
    ) {
        self.id = id
        self.account = account
        self.customerName = customerName
        self.customerNameEn = customerNameEn
        self.package = package
        self.validFrom = validFrom
        self.validTo = validTo
        self.products = products
        self.region = region
    }

    /// True when `day` lies within validFrom...validTo (both inclusive).
    public func isValid(on day: LocalDate) -> Bool { validFrom <= day && day <= validTo }
}

/// `contracts.yaml`: every customer account's contract(s).
public struct ContractsSection: Sendable, Hashable {
    public static let fileName = "contracts.yaml"
    public var contracts: [Contract]

    public init(contracts: [Contract]) { self.contracts = contracts }

    /// The account's contract valid on `day`, else its latest contract (possibly expired), else nil.
    public func contract(account: String, on day: LocalDate) -> Contract? {
        let own = contracts.filter { $0.account == account }
        return own.first { $0.isValid(on: day) } ?? own.max { $0.validTo < $1.validTo }
    }

    static func decode(_ root: ConfigNode) -> ContractsSection {
        root.checkKeys(["contracts"])
        let nodes = root.required("contracts")?.list() ?? []
        let contracts: [Contract] = nodes.compactMap { node in
            node.checkKeys(["id", "account", "customerName", "customerNameEn", "package", "validFrom", "validTo",
                            "products", "region"])
            let id = node.required("id")?.identifier()
            let account = node.required("account")?.identifier()
            let name = node.required("customerName")?.identifier()
            let nameEn = node["customerNameEn"]?.string()
            let package = node.required("package")?.identifier()
            let from = node.required("validFrom")?.localDate()
            let to = node.required("validTo")?.localDate()
            let products = node.required("products")?.stringList() ?? []
            let region = node.required("region")?.identifier()
            if let from, let to, to < from { node["validTo"]?.error("validTo \(to) is before validFrom \(from)") }
            guard let id, let account, let name, let package, let from, let to, let region else { return nil }
            return Contract(id: id, account: account, customerName: name, customerNameEn: nameEn, package: package,
                            validFrom: from, validTo: to, products: products, region: region)
        }
        checkUnique(contracts.map(\.id), nodes: nodes, what: "contract id")
        return ContractsSection(contracts: contracts)
    }
}
