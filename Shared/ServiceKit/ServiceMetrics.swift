import CoreMetrics
import Metrics
import Prometheus
import Synchronization

/// The metrics every ITR service exports, on one Prometheus registry.
///
/// Names follow Prometheus conventions (base unit suffixes, `_total` for counters), and
/// every series carries the `service` label:
///
/// | name | kind | labels |
/// | --- | --- | --- |
/// | `itr_events_consumed_total` | counter | service, type |
/// | `itr_events_published_total` | counter | service, exchange |
/// | `itr_events_rejected_total` | counter | service, reason |
/// | `itr_events_duplicate_total` | counter | service |
/// | `itr_deliveries_total` | counter | service, queue, disposition |
/// | `itr_handler_duration_seconds` | histogram | service, queue |
/// | `itr_handler_batch_size` | histogram | service, queue |
/// | `itr_outbox_pending` | gauge | service |
/// | `itr_outbox_publish_failures_total` | counter | service |
/// | `itr_outbox_parked_total` | counter | service |
/// | `itr_outbox_parked` | gauge | service |
/// | `itr_amqp_connected` | gauge | service |
/// | `itr_consumer_ready` | gauge | service, queue |
/// | `itr_retention_pruned_rows_total` | counter | service, table |
public final class ServiceMetrics: Sendable {
    /// The process-wide registry that `/metrics` renders and swift-metrics writes to.
    public static let sharedRegistry = PrometheusCollectorRegistry()

    private static let bootstrapped = Mutex(false)

    /// Makes the shared registry the swift-metrics backend. Only the first call in a process has an effect.
    public static func bootstrap() {
        let first = bootstrapped.withLock { done in
            defer { done = true }
            return !done
        }
        if first {
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: sharedRegistry))
        }
    }

    public let service: String
    public let registry: PrometheusCollectorRegistry

    public init(service: String, registry: PrometheusCollectorRegistry = ServiceMetrics.sharedRegistry) {
        self.service = service
        self.registry = registry
    }

    /// The registry rendered in the Prometheus text format 0.0.4.
    public func render() -> String {
        registry.emitToString()
    }

    /// The content type of ``render()``.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    // MARK: Metrics

    public func eventsConsumed(type: String) -> Prometheus.Counter {
        counter("itr_events_consumed", "Events handled to completion, by CloudEvent type.", [("type", type)])
    }

    public func eventsPublished(exchange: String) -> Prometheus.Counter {
        counter("itr_events_published", "Messages confirmed by the broker, by exchange.", [("exchange", exchange)])
    }

    public func eventsRejected(reason: String) -> Prometheus.Counter {
        counter("itr_events_rejected", "Input that could not be accepted, by reason code.", [("reason", reason)])
    }

    public var eventsDuplicate: Prometheus.Counter {
        counter("itr_events_duplicate", "Deliveries recognised as repeats (same source and id).", [])
    }

    public func deliveries(queue: String, disposition: String) -> Prometheus.Counter {
        counter("itr_deliveries", "Deliveries settled, by queue and disposition.", [("queue", queue), ("disposition", disposition)])
    }

    public func handlerDuration(queue: String) -> DurationHistogram {
        registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                metricName: "itr_handler_duration", unitName: "seconds",
                helpText: "Time to handle one batch of deliveries (one write transaction)."),
            labels: [("service", service), ("queue", queue)],
            buckets: [
                .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                .seconds(1), .seconds(2.5), .seconds(5),
            ])
    }

    public func handlerBatchSize(queue: String) -> ValueHistogram {
        registry.makeValueHistogram(
            descriptor: MetricNameDescriptor(
                metricName: "itr_handler_batch", unitName: "size", helpText: "Deliveries per handled batch."),
            labels: [("service", service), ("queue", queue)],
            buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256])
    }

    public var outboxPending: Prometheus.Gauge {
        gauge("itr_outbox_pending", "Outbox rows not yet confirmed by the broker.", [])
    }

    public var outboxPublishFailures: Prometheus.Counter {
        counter("itr_outbox_publish_failures", "Outbox publish attempts that failed and will be retried.", [])
    }

    public var outboxParked: Prometheus.Counter {
        counter("itr_outbox_parked", "Outbox rows parked: they cannot be published and wait for someone (GET /v1/outbox/parked).", [])
    }

    public var outboxParkedRows: Prometheus.Gauge {
        gauge("itr_outbox_parked", "Outbox rows parked now.", [])
    }

    /// `itr_instance_info{service, instance} 1`: which instance this is (`ITR_INSTANCE`), without
    /// an extra label on every other series (Prometheus adds the scrape target's own `instance`).
    public func instanceInfo(_ instance: String) -> Prometheus.Gauge {
        gauge("itr_instance_info", "1, labelled with this instance's name (ITR_INSTANCE).", [("itr_instance", instance)])
    }

    public var amqpConnected: Prometheus.Gauge {
        gauge("itr_amqp_connected", "1 when the broker connection is up, else 0.", [])
    }

    public func consumerReady(queue: String) -> Prometheus.Gauge {
        gauge("itr_consumer_ready", "1 while the queue is being consumed, else 0.", [("queue", queue)])
    }

    public func retentionPrunedRows(table: String) -> Prometheus.Counter {
        counter("itr_retention_pruned_rows", "Rows deleted by data retention, by table.", [("table", table)])
    }

    // MARK: Helpers

    private func counter(_ name: String, _ help: String, _ labels: [(String, String)]) -> Prometheus.Counter {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(metricName: name, unitName: "total", helpText: help),
            labels: [("service", service)] + labels)
    }

    private func gauge(_ name: String, _ help: String, _ labels: [(String, String)]) -> Prometheus.Gauge {
        registry.makeGauge(
            descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help),
            labels: [("service", service)] + labels)
    }
}
