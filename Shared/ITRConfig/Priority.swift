/// ITIL priority, P1 critical ... P5 planning.
public enum Priority: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case p1 = "P1", p2 = "P2", p3 = "P3", p4 = "P4", p5 = "P5"

    public var rank: Int { Priority.allCases.firstIndex(of: self)! + 1 }

    public static func < (lhs: Priority, rhs: Priority) -> Bool { lhs.rank < rhs.rank }
}

/// A reported or alarm severity, as upstream systems send it.
public enum Severity: String, Sendable, Hashable, Codable, CaseIterable {
    case critical, major, minor, warning, info
}

/// Why a ticket waits; which reasons pause the SLA is configured in `lifecycle.yaml`.
public enum PendingReason: String, Sendable, Hashable, Codable, CaseIterable {
    case waitingCustomer = "waiting-customer"
    case waitingSparePart = "waiting-spare-part"
    case waitingSupplier = "waiting-supplier"
    case other
}

/// Who caused an issue (质量责任判断). Product causes feed IPD.
public enum QualityResponsibility: String, Sendable, Hashable, Codable, CaseIterable {
    case productHardware = "product-hardware"
    case productSoftware = "product-software"
    case productDocumentation = "product-documentation"
    case installation
    case customer
    case supplier
    case noFaultFound = "no-fault-found"

    /// True for causes in the product itself (these become IPD defects).
    public var isProductCause: Bool {
        self == .productHardware || self == .productSoftware || self == .productDocumentation
    }
}
