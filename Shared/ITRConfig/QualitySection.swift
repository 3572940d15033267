/// One resolution code and the quality responsibility it implies.
public struct ResolutionCode: Sendable, Hashable {
    public var code: String
    public var responsibility: QualityResponsibility
    public var description: String
    public init(code: String, responsibility: QualityResponsibility, description: String) {
        self.code = code
        self.responsibility = responsibility
        self.description = description
    }
}

/// `quality.yaml`: resolution codes → quality responsibility (the code is the rule id).
public struct QualitySection: Sendable, Hashable {
    public static let fileName = "quality.yaml"
    public var codes: [ResolutionCode]

    public init(codes: [ResolutionCode]) { self.codes = codes }

    public func resolutionCode(_ code: String) -> ResolutionCode? { codes.first { $0.code == code } }

    static func decode(_ root: ConfigNode) -> QualitySection {
        root.checkKeys(["resolutionCodes"])
        let nodes = root.required("resolutionCodes")?.list() ?? []
        let codes: [ResolutionCode] = nodes.compactMap { node in
            node.checkKeys(["code", "responsibility", "description"])
            let code = node.required("code")?.identifier()
            let responsibility = node.required("responsibility")?.oneOf(QualityResponsibility.self)
            guard let code, let responsibility else { return nil }
            return ResolutionCode(code: code, responsibility: responsibility, description: node["description"]?.string() ?? "")
        }
        checkUnique(codes.map(\.code), nodes: nodes, what: "resolution code", idField: "code")
        return QualitySection(codes: codes)
    }
}
