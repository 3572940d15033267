import Metrics

/// Service-level outcomes as Prometheus counters, decided when a ticket is resolved:
/// `itr_router_sla_decided_total{clock="response|resolution", outcome="met|breached"}` and
/// `itr_router_ola_decided_total{tier, outcome="on-time|breached"}` (one per OLA stint).
/// The Grafana dashboard divides `met` by all to show attainment. Counted inside the batch's
/// transaction, so a batch retried after a failure may count a ticket twice (rare; the exact
/// figures are `GET /v1/service-levels`).
enum ServiceLevelMetrics {
    static func recordResolution(_ clocks: TicketClocks) {
        for (name, clock) in [("response", clocks.sla.response), ("resolution", clocks.sla.resolution)] {
            Counter(label: "itr_router_sla_decided_total", dimensions: [("clock", name), ("outcome", clock.isBreached ? "breached" : "met")]).increment()
        }
        for stint in clocks.ola {
            Counter(label: "itr_router_ola_decided_total", dimensions: [("tier", stint.tier), ("outcome", stint.clock.isBreached ? "breached" : "on-time")]).increment()
        }
    }
}
