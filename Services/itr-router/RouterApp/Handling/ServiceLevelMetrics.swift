import Metrics

/// Service-level outcomes as Prometheus counters:
/// `itr_router_sla_decided_total{clock="response|resolution", outcome="met|breached"}` and
/// `itr_router_ola_decided_total{tier, outcome="on-time|breached"}` (one per OLA stint).
///
/// Counted where the outcome is stored (``TicketRepository/save``), from the same
/// `ClockStatus.outcome` that `GET /v1/service-levels` counts: a clock is counted when its stored
/// outcome becomes decided (or changes). So the counters and the report agree clock for clock;
/// the one difference is a reopen, which makes a met resolution clock undecided again (the
/// report stops counting it, the counter keeps its earlier decision and counts the next one too).
/// Counted inside the write transaction, so a batch retried after a failure may count a clock
/// twice (rare; the exact figures are `GET /v1/service-levels`).
enum ServiceLevelMetrics {
    /// One counter increment.
    struct Decision: CustomStringConvertible {
        var label: String
        var dimensions: [(String, String)]
        var description: String { ([label] + dimensions.map { "\($0)=\($1)" }).joined(separator: " ") }
    }

    /// The increments a save makes: every clock whose stored outcome becomes decided (or changes).
    static func decisions(before: TicketRepository.StoredOutcomes, after: TicketRepository.StoredOutcomes) -> [Decision] {
        var decisions: [Decision] = []
        for (name, old, new) in [("response", before.response, after.response), ("resolution", before.resolution, after.resolution)] {
            guard let new, new != old else { continue }
            decisions.append(Decision(
                label: "itr_router_sla_decided_total", dimensions: [("clock", name), ("outcome", new ? "met" : "breached")]))
        }
        for (index, stint) in after.stints.enumerated() {
            guard let new = stint.outcome else { continue }
            let old = index < before.stints.count && before.stints[index].tier == stint.tier ? before.stints[index].outcome : nil
            guard new != old else { continue }
            decisions.append(Decision(
                label: "itr_router_ola_decided_total", dimensions: [("tier", stint.tier), ("outcome", new ? "on-time" : "breached")]))
        }
        return decisions
    }

    static func recordDecisions(before: TicketRepository.StoredOutcomes, after: TicketRepository.StoredOutcomes) {
        for decision in decisions(before: before, after: after) {
            Counter(label: decision.label, dimensions: decision.dimensions).increment()
        }
    }
}

/// `itr_router_classified_total{by="rule|model|desk", service_type, needs_triage="true|false"}`:
/// how service types are decided (the model's share, the triage rate, the desk's corrections).
/// Counted in the write transaction, like ``ServiceLevelMetrics``.
enum ClassificationMetrics {
    static func record(_ classification: Classification) {
        Counter(
            label: "itr_router_classified_total",
            dimensions: [
                ("by", classification.decision.by.rawValue), ("service_type", classification.serviceType.rawValue),
                ("needs_triage", classification.decision.needsTriage ? "true" : "false"),
            ]
        ).increment()
    }
}
