import Prometheus
import ServiceKit

/// The extractor's own metrics, on the service's registry:
/// `ltc_opportunities_total{service, kind, change}` (change = identified, updated, status-<state>).
public struct LTCMetrics: Sendable {
    public let base: ServiceMetrics

    public init(base: ServiceMetrics) { self.base = base }

    public func opportunities(kind: String, change: String) -> Prometheus.Counter {
        base.registry.makeCounter(
            descriptor: MetricNameDescriptor(
                metricName: "ltc_opportunities", unitName: "total",
                helpText: "Opportunities identified, updated or reported on by sales, by kind."),
            labels: [("service", base.service), ("kind", kind), ("change", change)])
    }
}
