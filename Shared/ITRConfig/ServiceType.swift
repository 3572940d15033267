/// The seven service types of ITR; each has its own handling flow.
public enum ServiceType: String, Sendable, Hashable, Codable, CaseIterable {
    case hardwareFault = "hardware-fault"
    case preventiveMaintenance = "preventive-maintenance"
    case softwareFault = "software-fault"
    case softwareOperation = "software-operation"
    case nonTechnical = "non-technical"
    case newRequirement = "new-requirement"
    case complaint = "complaint"
}
