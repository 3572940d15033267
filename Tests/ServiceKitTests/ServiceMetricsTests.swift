import ITREvents
import Testing

@testable import ServiceKit

@Suite struct ServiceMetricsTests {
    /// Issue 12: the type label comes from the message; hostile types must not grow the registry.
    @Test func consumedTypesFromProducersKeepTheLabelSetBounded() {
        let metrics = ServiceMetrics(service: "metrics-test", registry: .init())
        metrics.eventsConsumed(type: EventType.ticketOpened.rawValue).increment()
        metrics.eventsConsumed(type: "unknown").increment()
        for i in 0..<1_000 { metrics.eventsConsumed(type: "com.example.random-\(i)-工单").increment() }
        let lines = metrics.render().split(separator: "\n").filter { $0.hasPrefix("itr_events_consumed_total{") }
        #expect(lines.count == 3, "\(lines)")
        #expect(lines.contains { $0.contains("type=\"itr.ticket.opened\"") && $0.hasSuffix(" 1") })
        #expect(lines.contains { $0.contains("type=\"unknown\"") && $0.hasSuffix(" 1") })
        #expect(lines.contains { $0.contains("type=\"other\"") && $0.hasSuffix(" 1000") })
    }
}
