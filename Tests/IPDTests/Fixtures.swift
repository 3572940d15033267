import Foundation
import ITREvents
import ITRTestSupport
@testable import IPDApp

/// The shipped rules (deploy/config/ipd.yaml), loaded once: every unit test also checks that the
/// shipped file is valid.
let shippedRules: IPDRules = {
    let directory = TestEnvironment.packageRoot.appendingPathComponent("deploy/config").path
    do { return try IPDService.loadRules(directory: directory) } catch { fatalError("shipped ipd.yaml is invalid: \(error)") }
}()

let t0 = Date(timeIntervalSince1970: 1_780_000_000)

func problemOpened(
    _ id: String, title: String, line: String = "OptiX OSN 8800", model: String? = "OSN 8800 T32",
    component: String? = "TN12LSX", code: String? = nil, tickets: [String]
) -> ProblemOpened {
    ProblemOpened(
        problemId: id, title: title, fingerprint: "router-\(id)", productLine: line, model: model, component: component,
        code: code, symptom: nil, trigger: .recurring, ticketIds: tickets)
}

func ticketResolved(
    _ id: String, problem: String?, account: String, version: String = "V100R012C10", priority: Priority = .p3,
    package: String? = "gold", cause: QualityResponsibility = .productSoftware, rootCause: String? = nil,
    at: Date = t0
) -> TicketResolved {
    TicketResolved(
        ticketId: id, resolutionCode: "software-patch", rootCause: rootCause, qualityResponsibility: cause,
        product: Product(line: "OptiX OSN 8800", model: "OSN 8800 T32", version: version, component: "TN12LSX"),
        priority: priority, serviceType: .softwareFault, account: account, contractPackage: package, problemId: problem,
        resolvedAt: at)
}

func event<P: EventPayload>(_ payload: P, id: String = CloudEvent.newID(), source: String = "//itr/itr-router") -> CloudEvent {
    var event = try! CloudEvent(source: source, payload: payload, id: id, time: t0)
    event.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    return event
}
