import Foundation

/// Response and resolution targets for one priority, in the package's coverage calendar's business time.
public struct SLATargets: Sendable, Hashable {
    public var response: TimeInterval
    public var resolution: TimeInterval
    public init(response: TimeInterval, resolution: TimeInterval) {
        self.response = response
        self.resolution = resolution
    }
}

/// A live service offering (a module of the catalogue: core or plug-in).
public struct ServiceOffering: Sendable, Hashable {
    public var id: String
    public var name: String
    public var serviceTypes: [ServiceType]
    public init(id: String, name: String, serviceTypes: [ServiceType]) {
        self.id = id
        self.name = name
        self.serviceTypes = serviceTypes
    }
}

/// A service package a contract selects (Gold 24x7, Silver business hours, Bronze ...).
public struct ServicePackage: Sendable, Hashable {
    public var id: String
    public var name: String
    public var calendar: String
    public var offerings: [String]
    public var targets: [Priority: SLATargets]
    public init(id: String, name: String, calendar: String, offerings: [String], targets: [Priority: SLATargets]) {
        self.id = id
        self.name = name
        self.calendar = calendar
        self.offerings = offerings
        self.targets = targets
    }
}

/// One line of the price list LTC values opportunities with.
public struct PriceItem: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case offering, packageUpgrade = "package-upgrade", renewal, sparePart = "spare-part"
    }
    public enum Unit: String, Sendable, Hashable, CaseIterable {
        case once, perYear = "per-year", perUse = "per-use", perPiece = "per-piece"
    }
    public var sku: String
    public var kind: Kind
    public var name: String
    /// The offering, package or `from>to` upgrade this price refers to (empty for spare parts).
    public var ref: String
    /// The spare part's part number (spare parts only).
    public var partNumber: String?
    public var price: Double
    public var unit: Unit
}

/// A product model with its released versions.
public struct ProductModel: Sendable, Hashable {
    public struct Version: Sendable, Hashable {
        public var version: String
        /// The last day of support; nil when supported.
        public var endOfSupport: LocalDate?
    }
    public var id: String
    public var name: String
    public var versions: [Version]
}

public struct ProductLine: Sendable, Hashable {
    public var id: String
    public var name: String
    public var models: [ProductModel]
}

/// `catalogue.yaml`: offerings, packages, price list and products.
public struct CatalogueSection: Sendable, Hashable {
    public static let fileName = "catalogue.yaml"
    public var offerings: [ServiceOffering]
    public var packages: [ServicePackage]
    public var currency: String
    public var prices: [PriceItem]
    public var productLines: [ProductLine]

    public func package(_ id: String) -> ServicePackage? { packages.first { $0.id == id } }
    public func productLine(_ id: String) -> ProductLine? { productLines.first { $0.id == id } }
    public func price(sku: String) -> PriceItem? { prices.first { $0.sku == sku } }
    public func sparePart(partNumber: String) -> PriceItem? {
        prices.first { $0.kind == .sparePart && $0.partNumber == partNumber }
    }

    static func decode(_ root: ConfigNode) -> CatalogueSection {
        root.checkKeys(["offerings", "packages", "priceList", "productLines"])
        let offeringNodes = root.required("offerings")?.list() ?? []
        let offerings: [ServiceOffering] = offeringNodes.compactMap { node in
            node.checkKeys(["id", "name", "serviceTypes"])
            guard let id = node.required("id")?.identifier(), let name = node.required("name")?.string() else { return nil }
            let types = node["serviceTypes"]?.oneOfList(ServiceType.self) ?? []
            return ServiceOffering(id: id, name: name, serviceTypes: types)
        }
        checkUnique(offerings.map(\.id), nodes: offeringNodes, what: "offering id")
        let offeringIds = Set(offerings.map(\.id))

        let packageNodes = root.required("packages")?.list() ?? []
        let packages: [ServicePackage] = packageNodes.compactMap { node in
            node.checkKeys(["id", "name", "calendar", "offerings", "targets"])
            let id = node.required("id")?.identifier()
            let name = node.required("name")?.string()
            let calendar = node.required("calendar")?.identifier()
            var included: [String] = []
            if let list = node["offerings"]?.list() {
                for item in list {
                    guard let ref = item.identifier() else { continue }
                    if !offeringIds.contains(ref) { item.error("unknown offering \"\(ref)\"") }
                    included.append(ref)
                }
            }
            var targets: [Priority: SLATargets] = [:]
            if let targetsNode = node.required("targets") {
                targetsNode.checkKeys(Set(Priority.allCases.map(\.rawValue)))
                for priority in Priority.allCases {
                    guard let target = targetsNode.required(priority.rawValue) else { continue }
                    target.checkKeys(["response", "resolution"])
                    let response = target.required("response")?.duration()
                    let resolution = target.required("resolution")?.duration()
                    if let response, let resolution {
                        if response > resolution {
                            target.error(field: "response", "response target must not exceed the resolution target")
                        }
                        targets[priority] = SLATargets(response: response, resolution: resolution)
                    }
                }
            }
            guard let id, let name, let calendar else { return nil }
            return ServicePackage(id: id, name: name, calendar: calendar, offerings: included, targets: targets)
        }
        checkUnique(packages.map(\.id), nodes: packageNodes, what: "package id")

        var currency = "CNY"
        var prices: [PriceItem] = []
        if let priceNode = root.required("priceList") {
            priceNode.checkKeys(["currency", "items"])
            if let text = priceNode.required("currency")?.identifier() { currency = text }
            let itemNodes = priceNode.required("items")?.list() ?? []
            prices = itemNodes.compactMap { node in
                node.checkKeys(["sku", "kind", "name", "ref", "partNumber", "price", "unit"])
                let sku = node.required("sku")?.identifier()
                let kind = node.required("kind")?.oneOf(PriceItem.Kind.self)
                let name = node.required("name")?.string()
                let price = node.required("price")?.decimal(minimum: 0)
                let unit = node.required("unit")?.oneOf(PriceItem.Unit.self)
                var ref = ""
                var partNumber: String?
                switch kind {
                case .sparePart:
                    partNumber = node.required("partNumber")?.identifier()
                case .offering, .renewal:
                    ref = node.required("ref")?.identifier() ?? ""
                case .packageUpgrade:
                    ref = node.required("ref")?.identifier() ?? ""
                    if !ref.isEmpty, ref.split(separator: ">").count != 2 {
                        node["ref"]?.error("expected an upgrade like \"silver>gold\", got \"\(ref)\"")
                    }
                case nil: break
                }
                guard let sku, let kind, let name, let price, let unit else { return nil }
                return PriceItem(sku: sku, kind: kind, name: name, ref: ref, partNumber: partNumber, price: price, unit: unit)
            }
            checkUnique(prices.map(\.sku), nodes: itemNodes, what: "sku", idField: "sku")
            for (node, item) in zip(itemNodes, itemNodes.map { $0["ref"]?.scalarText }) {
                guard let ref = item, let kind = node["kind"]?.scalarText else { continue }
                if kind == "offering", !offeringIds.contains(ref) {
                    node["ref"]?.error("unknown offering \"\(ref)\"")
                }
            }
        }

        let lineNodes = root.required("productLines")?.list() ?? []
        let productLines: [ProductLine] = lineNodes.compactMap { node in
            node.checkKeys(["id", "name", "models"])
            let id = node.required("id")?.identifier()
            let name = node.required("name")?.string()
            let modelNodes = node.required("models")?.list() ?? []
            let models: [ProductModel] = modelNodes.compactMap { model in
                model.checkKeys(["id", "name", "versions"])
                let modelId = model.required("id")?.identifier()
                let modelName = model["name"]?.string()
                let versions: [ProductModel.Version] = (model.required("versions")?.list() ?? []).compactMap { version in
                    version.checkKeys(["version", "endOfSupport"])
                    guard let text = version.required("version")?.identifier() else { return nil }
                    return ProductModel.Version(version: text, endOfSupport: version["endOfSupport"]?.localDate())
                }
                guard let modelId else { return nil }
                return ProductModel(id: modelId, name: modelName ?? modelId, versions: versions)
            }
            checkUnique(models.map(\.id), nodes: modelNodes, what: "model id")
            guard let id, let name else { return nil }
            return ProductLine(id: id, name: name, models: models)
        }
        checkUnique(productLines.map(\.id), nodes: lineNodes, what: "product line id")
        return CatalogueSection(
            offerings: offerings, packages: packages, currency: currency, prices: prices, productLines: productLines)
    }
}
