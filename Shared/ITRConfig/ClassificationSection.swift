/// `classification.yaml`: service-type rules, impact and urgency derivation, and the priority matrix.
public struct ClassificationSection: Sendable, Hashable {
    public static let fileName = "classification.yaml"
    public var serviceTypeRules: [OrderedRule<ServiceType>]
    public var impactRules: [OrderedRule<Int>]
    public var urgencyRules: [OrderedRule<Int>]
    public var priorityMatrix: PriorityMatrix
    /// The trained service-type model deciding what no service-type rule decides (nil: the rules
    /// alone, ending with a catch-all).
    public var model: ModelReference?

    /// `model:` in `classification.yaml`.
    public struct ModelReference: Sendable, Hashable {
        /// The model file, relative to the configuration directory.
        public var file: String
        /// Below this probability of its best label the ticket is flagged `needs-triage` and
        /// assigned to the triage group (`assignment.yaml` `triage`).
        public var minConfidence: Double
        /// The id recorded for model decisions (the rule-id slot of history and events).
        public var id: String

        public init(file: String, minConfidence: Double, id: String = "st.model") {
            self.file = file
            self.minConfidence = minConfidence
            self.id = id
        }
    }

    public init(
        serviceTypeRules: [OrderedRule<ServiceType>], impactRules: [OrderedRule<Int>],
        urgencyRules: [OrderedRule<Int>], priorityMatrix: PriorityMatrix, model: ModelReference? = nil
    ) {
        self.model = model
        self.serviceTypeRules = serviceTypeRules
        self.impactRules = impactRules
        self.urgencyRules = urgencyRules
        self.priorityMatrix = priorityMatrix
    }

    static func decode(_ root: ConfigNode) -> ClassificationSection {
        root.checkKeys(["serviceTypes", "model", "impact", "urgency", "priorityMatrix"])
        let model = root["model"].flatMap(ModelReference.decode)
        let types = OrderedRule<ServiceType>.decodeList(
            root.required("serviceTypes"), outcomeKeys: ["serviceType"], fallback: root["model"] == nil ? nil : "the model"
        ) {
            $0.required("serviceType")?.oneOf(ServiceType.self)
        }
        let impact = OrderedRule<Int>.decodeList(root.required("impact"), outcomeKeys: ["impact"]) {
            $0.required("impact")?.int(in: 1...4)
        }
        let urgency = OrderedRule<Int>.decodeList(root.required("urgency"), outcomeKeys: ["urgency"]) {
            $0.required("urgency")?.int(in: 1...4)
        }
        let matrix = root.required("priorityMatrix").flatMap(PriorityMatrix.decode)
        return ClassificationSection(
            serviceTypeRules: types, impactRules: impact, urgencyRules: urgency,
            priorityMatrix: matrix ?? PriorityMatrix(cells: Array(repeating: Array(repeating: .p3, count: 4), count: 4)),
            model: model)
    }
}

extension ClassificationSection.ModelReference {
    static func decode(_ node: ConfigNode) -> Self? {
        node.checkKeys(["file", "minConfidence", "id"])
        let file = node.required("file")?.identifier()
        let confidence = node.required("minConfidence")?.share(maximum: 1)
        let id = node["id"]?.identifier() ?? "st.model"
        if let file, file.hasPrefix("/") || file.split(separator: "/").contains("..") {
            node["file"]?.error("the model file is named relative to the configuration directory, without \"..\"")
            return nil
        }
        guard let file, let confidence else { return nil }
        return Self(file: file, minConfidence: confidence, id: id)
    }
}
