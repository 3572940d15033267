import Foundation
import ITREvents

/// One product defect: every product-caused problem and ticket with the same fingerprint,
/// across versions and customers, with R&D's status. A value type; ``DefectPolicy`` decides
/// what to emit, ``DefectTransition`` applies R&D's decisions, the store persists it.
public struct Defect: Sendable, Hashable, Codable {
    public var id: String
    public var fingerprint: DefectFingerprint
    /// As first seen (display): product line, model, component and code in their original spelling.
    public var productLine: String
    public var model: String?
    public var component: String?
    public var code: String?

    public var versions: Set<String> = []
    public var problemIds: Set<String> = []
    public var ticketIds: Set<String> = []
    public var accounts: Set<String> = []
    public var packages: Set<String> = []
    public var highestPriority: Priority?
    public var slaBreaches: Int = 0
    public var firstSeen: Date?
    public var lastSeen: Date?

    public var status: DefectState = .reported
    public var fixVersion: String?
    /// For `duplicate`: the defect it was merged into.
    public var duplicateOf: String?
    /// The last released fix that did not hold (see ``absorb(_:)``).
    public var regressedFixVersion: String?
    /// A regression not announced in the feed yet (optional: rows stored before it decode).
    public var regressionPending: Bool?

    /// When the defect crossed the report threshold (nil: not reported yet, below threshold).
    public var reportedAt: Date?
    /// The last event emitted for it, and the impact it carried.
    public var lastEmittedAt: Date?
    public var lastEmitted: ImpactSnapshot?
    /// A material change waits for the debounce interval to pass.
    public var pendingUpdate = false
    /// The event behind the latest change, for the causation of a deferred update.
    public var cause: CauseContext?

    public init(
        id: String, fingerprint: DefectFingerprint, productLine: String, model: String? = nil, component: String? = nil,
        code: String? = nil
    ) {
        self.id = id
        self.fingerprint = fingerprint
        self.productLine = productLine
        self.model = model
        self.component = component
        self.code = code
    }

    public var isReported: Bool { reportedAt != nil }

    /// The symptom signature for the feed (never empty).
    public var symptomSignature: String {
        if !fingerprint.symptom.isEmpty { return fingerprint.symptom }
        return code ?? component ?? productLine
    }

    // MARK: Folding

    /// Adds one product-caused incident (a ticket resolved with a product cause).
    ///
    /// Regression: when the fix is released and a product-caused incident comes on the fixed
    /// version or a later one (`VersionOrder`), the fix did not hold: the defect goes back to
    /// `reported` with `regressedFixVersion` (announced at once, not debounced). Incidents on
    /// older versions (customers not upgraded yet, or the defect's own tickets resolved by the
    /// fix) are not regressions.
    public mutating func absorb(_ incident: Incident) {
        if status == .fixReleased, let fix = fixVersion, let version = incident.version, !version.isEmpty,
           !VersionOrder.less(version, fix)
        {
            status = .reported
            regressedFixVersion = fix
            fixVersion = nil
            regressionPending = true
        }
        if let problemId = incident.problemId { problemIds.insert(problemId) }
        ticketIds.insert(incident.ticketId)
        if let account = incident.account { accounts.insert(account) }
        if let package = incident.contractPackage { packages.insert(package) }
        if let version = incident.version, !version.isEmpty { versions.insert(version) }
        if let priority = incident.priority { highestPriority = min(highestPriority ?? priority, priority) }
        slaBreaches += incident.slaBreaches
        if let at = incident.at {
            firstSeen = min(firstSeen ?? at, at)
            lastSeen = max(lastSeen ?? at, at)
        }
    }

    /// Adds the tickets of a problem that are not (yet) resolved: they count as incidents.
    public mutating func absorb(problemId: String, ticketIds more: [String]) {
        problemIds.insert(problemId)
        ticketIds.formUnion(more)
    }

    /// Takes over everything `other` (a duplicate of this one) has collected.
    public mutating func merge(_ other: Defect) {
        versions.formUnion(other.versions)
        problemIds.formUnion(other.problemIds)
        ticketIds.formUnion(other.ticketIds)
        accounts.formUnion(other.accounts)
        packages.formUnion(other.packages)
        if let p = other.highestPriority { highestPriority = min(highestPriority ?? p, p) }
        slaBreaches += other.slaBreaches  // a ticket belongs to one defect only
        if let at = other.firstSeen { firstSeen = min(firstSeen ?? at, at) }
        if let at = other.lastSeen { lastSeen = max(lastSeen ?? at, at) }
    }

    // MARK: Impact

    public func snapshot(weights: IPDRules.ScoreWeights) -> ImpactSnapshot {
        ImpactSnapshot(
            customers: accounts.count, incidents: ticketIds.count, highestPriority: highestPriority,
            slaBreaches: slaBreaches, versions: versions.count, problems: problemIds.count,
            score: ImpactScore.score(
                customers: accounts.count, incidents: ticketIds.count, highestPriority: highestPriority,
                slaBreaches: slaBreaches, packages: packages, weights: weights))
    }

    public func impact(weights: IPDRules.ScoreWeights, now: Date) -> DefectImpact {
        let snapshot = snapshot(weights: weights)
        return DefectImpact(
            customers: snapshot.customers, incidents: snapshot.incidents, highestPriority: highestPriority ?? .p5,
            slaBreaches: slaBreaches, packages: packages.sorted(), firstSeen: firstSeen ?? now,
            lastSeen: lastSeen ?? firstSeen ?? now, score: snapshot.score)
    }

    /// The feed payload (a full snapshot) as `Kind`.
    public func payload<Kind: EventKind>(_ kind: Kind.Type, weights: IPDRules.ScoreWeights, now: Date) -> DefectEvent<Kind> {
        DefectEvent<Kind>(
            defectId: id, fingerprint: fingerprint.digest, productLine: productLine, model: model,
            affectedVersions: versions.sorted(by: VersionOrder.less), component: component, code: code,
            symptomSignature: symptomSignature, impact: impact(weights: weights, now: now), problemIds: problemIds.sorted(),
            ticketIds: ticketIds.sorted(), status: status, fixVersion: fixVersion, duplicateOf: duplicateOf,
            regressedFixVersion: regressedFixVersion)
    }
}

/// One product-caused ticket as folded into a defect.
public struct Incident: Sendable, Hashable, Codable {
    public var ticketId: String
    public var problemId: String?
    public var account: String?
    public var contractPackage: String?
    public var priority: Priority?
    public var version: String?
    public var slaBreaches: Int
    public var at: Date?

    public init(
        ticketId: String, problemId: String? = nil, account: String? = nil, contractPackage: String? = nil,
        priority: Priority? = nil, version: String? = nil, slaBreaches: Int = 0, at: Date? = nil
    ) {
        self.ticketId = ticketId
        self.problemId = problemId
        self.account = account
        self.contractPackage = contractPackage
        self.priority = priority
        self.version = version
        self.slaBreaches = slaBreaches
        self.at = at
    }
}

/// The impact figures an event carried, to decide whether a later change is material.
public struct ImpactSnapshot: Sendable, Hashable, Codable {
    public var customers: Int
    public var incidents: Int
    public var highestPriority: Priority?
    public var slaBreaches: Int
    public var versions: Int
    public var problems: Int
    public var score: Double
}

/// The causation of the next event about a defect: the id and trace context of the input
/// that changed it last.
public struct CauseContext: Sendable, Hashable, Codable {
    public var eventId: String
    public var traceparent: String?
    public var tracestate: String?

    public init(eventId: String, traceparent: String? = nil, tracestate: String? = nil) {
        self.eventId = eventId
        self.traceparent = traceparent
        self.tracestate = tracestate
    }

    public init(_ event: CloudEvent) {
        self.init(eventId: event.id, traceparent: event.traceparent, tracestate: event.tracestate)
    }
}

/// Orders version strings by their numeric runs (`V2R5` < `V2R10`), then as text.
public enum VersionOrder {
    public static func less(_ a: String, _ b: String) -> Bool {
        let x = parts(a), y = parts(b)
        for (p, q) in zip(x, y) where p != q {
            switch (Int(p), Int(q)) {
            case let (i?, j?): return i < j
            default: return p < q
            }
        }
        return x.count != y.count ? x.count < y.count : a < b
    }

    static func parts(_ s: String) -> [String] {
        var result: [String] = []
        var current = ""
        var digits = false
        for c in s.uppercased() {
            let isDigit = c.isASCII && c.isNumber
            if !current.isEmpty, isDigit != digits {
                result.append(current)
                current = ""
            }
            digits = isDigit
            current.append(c)
        }
        if !current.isEmpty { result.append(current) }
        return result
    }
}
