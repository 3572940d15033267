/// `classification.yaml`: service-type rules, impact and urgency derivation, and the priority matrix.
public struct ClassificationSection: Sendable, Hashable {
    public static let fileName = "classification.yaml"
    public var serviceTypeRules: [OrderedRule<ServiceType>]
    public var impactRules: [OrderedRule<Int>]
    public var urgencyRules: [OrderedRule<Int>]
    public var priorityMatrix: PriorityMatrix

    public init(
        serviceTypeRules: [OrderedRule<ServiceType>], impactRules: [OrderedRule<Int>],
        urgencyRules: [OrderedRule<Int>], priorityMatrix: PriorityMatrix
    ) {
        self.serviceTypeRules = serviceTypeRules
        self.impactRules = impactRules
        self.urgencyRules = urgencyRules
        self.priorityMatrix = priorityMatrix
    }

    static func decode(_ root: ConfigNode) -> ClassificationSection {
        root.checkKeys(["serviceTypes", "impact", "urgency", "priorityMatrix"])
        let types = OrderedRule<ServiceType>.decodeList(root.required("serviceTypes"), outcomeKeys: ["serviceType"]) {
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
            priorityMatrix: matrix ?? PriorityMatrix(cells: Array(repeating: Array(repeating: .p3, count: 4), count: 4)))
    }
}
