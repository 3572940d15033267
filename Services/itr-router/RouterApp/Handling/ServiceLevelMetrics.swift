import Metrics

/// Service-level outcomes as Prometheus counters, each clock counted once, when it is decided:
/// `itr_router_sla_decided_total{clock="response|resolution", outcome="met|breached"}` and
/// `itr_router_ola_decided_total{tier, outcome="on-time|breached"}` (one per OLA stint).
/// A breach is counted when it happens (with `itr.sla.breached` / `itr.ola.breached`); a clock
/// that was not breached is counted as met when the ticket is resolved (again after a reopen).
/// So `met / (met + breached)` is the attainment `GET /v1/service-levels` reports, give or take
/// the tickets acknowledged but not yet resolved. Counted inside the batch's transaction, so a
/// batch retried after a failure may count a clock twice (rare; the exact figures are
/// `GET /v1/service-levels`).
enum ServiceLevelMetrics {
    static func recordResolution(_ clocks: TicketClocks) {
        for (name, clock) in [("response", clocks.sla.response), ("resolution", clocks.sla.resolution)] where !clock.isBreached {
            Counter(label: "itr_router_sla_decided_total", dimensions: [("clock", name), ("outcome", "met")]).increment()
        }
        for stint in clocks.ola where !stint.clock.isBreached {
            Counter(label: "itr_router_ola_decided_total", dimensions: [("tier", stint.tier), ("outcome", "on-time")]).increment()
        }
    }

    static func recordBreach(sla clock: String) {
        Counter(label: "itr_router_sla_decided_total", dimensions: [("clock", clock), ("outcome", "breached")]).increment()
    }

    static func recordBreach(ola tier: String) {
        Counter(label: "itr_router_ola_decided_total", dimensions: [("tier", tier), ("outcome", "breached")]).increment()
    }
}
