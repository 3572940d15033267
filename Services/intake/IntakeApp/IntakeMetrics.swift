import Prometheus
import ServiceKit

/// Intake's own series (on the service's registry, next to ServiceKit's):
///
/// | name | kind | labels |
/// | --- | --- | --- |
/// | `itr_intake_reports_received_total` | counter | service, via (`amqp`, `http`) |
/// | `itr_intake_reports_accepted_total` | counter | service, channel |
/// | `itr_intake_tickets_opened_total` | counter | service |
/// | `itr_intake_reports_duplicate_total` | counter | service |
/// | `itr_intake_reports_rejected_total` | counter | service, reason |
/// | `itr_intake_reports_correlated_total` | counter | service |
/// | `itr_intake_report_latency_seconds` | histogram | service, via (received → committed) |
public struct IntakeMetrics: Sendable {
    public enum Via: String, Sendable { case amqp, http }

    let registry: PrometheusCollectorRegistry
    let service: String
    let ticketsOpened: Prometheus.Counter
    let duplicates: Prometheus.Counter
    let correlated: Prometheus.Counter

    public init(metrics: ServiceMetrics) {
        registry = metrics.registry
        service = metrics.service
        ticketsOpened = Self.counter(registry, service, "itr_intake_tickets_opened", "Tickets opened.", [])
        duplicates = Self.counter(registry, service, "itr_intake_reports_duplicate", "Reports seen before (same source and id).", [])
        correlated = Self.counter(
            registry, service, "itr_intake_reports_correlated", "Monitoring alarms folded into an open ticket.", [])
    }

    func received(_ via: Via) -> Prometheus.Counter {
        Self.counter(registry, service, "itr_intake_reports_received", "Reports received, by interface.", [("via", via.rawValue)])
    }

    func accepted(channel: String) -> Prometheus.Counter {
        Self.counter(
            registry, service, "itr_intake_reports_accepted", "Reports accepted (ticket opened, alarm folded or cleared), by channel.",
            [("channel", channel)])
    }

    func rejected(reason: String) -> Prometheus.Counter {
        Self.counter(registry, service, "itr_intake_reports_rejected", "Reports rejected, by reason code.", [("reason", reason)])
    }

    /// Bytes of refused HTTP input kept in `itr.rejected`, by the submitting token's identity.
    func keptBytes(submitter: String) -> Prometheus.Counter {
        Self.counter(
            registry, service, "itr_intake_rejected_kept_bytes",
            "Bytes of refused HTTP input kept in itr.rejected, by the submitting token's identity.", [("submitter", submitter)])
    }

    /// Refused HTTP bodies kept cut because their token's kept-bytes budget was spent.
    func keptCut(submitter: String) -> Prometheus.Counter {
        Self.counter(
            registry, service, "itr_intake_rejected_cut",
            "Refused HTTP bodies kept cut: the token's kept-bytes budget per minute was spent.", [("submitter", submitter)])
    }

    func latency(_ via: Via) -> DurationHistogram {
        registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                metricName: "itr_intake_report_latency", unitName: "seconds",
                helpText: "From receiving a report to committing its outcome."),
            labels: [("service", service), ("via", via.rawValue)],
            buckets: [
                .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                .seconds(2.5), .seconds(5),
            ])
    }

    private static func counter(
        _ registry: PrometheusCollectorRegistry, _ service: String, _ name: String, _ help: String, _ labels: [(String, String)]
    ) -> Prometheus.Counter {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(metricName: name, unitName: "total", helpText: help),
            labels: [("service", service)] + labels)
    }
}
