import Foundation
import Hummingbird
import HummingbirdTesting
import ITRTestSupport
import Logging
import Testing

@testable import ServiceKit

@Suite struct HTTPListenerTests {
    func makeApp(health: HealthState, metrics: ServiceMetrics) -> some ApplicationProtocol {
        let router = HTTPListener.makeRouter(
            metrics: metrics,
            readiness: { ReadinessReport(ready: health.isReady, components: health.snapshot()) },
            authenticator: try! TokenAuthenticator(parsing: TestTokens.opsEntry, origin: "test"),
            routes: { router in
                router.get("/v1/things/:id") { _, context -> String in
                    let id = try context.parameters.require("id")
                    guard id == "1" else {
                        throw ProblemDetails(
                            status: .notFound, detail: "没有这个东西 \(id)",
                            problems: [.init(path: "id", code: "unknown", message: "no such thing")])
                    }
                    return "thing 1"
                }
                router.get("/v1/boom") { _, _ -> String in
                    struct Internal: Error {}
                    throw Internal()
                }
                router.get("/v1/teapot") { _, _ -> String in
                    throw HTTPError(.badRequest, message: "bad teapot")
                }
            })
        return HTTPListener.makeApplication(
            router: router, host: "127.0.0.1", port: 0, serverName: "test", logger: Logger(label: "test"))
    }

    func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
    }

    @Test func healthReadinessAndMetrics() async throws {
        let health = HealthState()
        health.set("consumer:q", ready: false, detail: "not consuming yet")
        health.addCheck("amqp") { (true, nil) }
        let metrics = ServiceMetrics(service: "http-test", registry: .init())
        metrics.eventsConsumed(type: "itr.ticket.opened").increment()
        let app = makeApp(health: health, metrics: metrics)
        try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                let body = try json(response.body)
                #expect(body["status"] as? String == "alive")
            }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let body = try json(response.body)
                #expect(body["not_ready"] as? [String] == ["consumer:q"])
                let components = try #require(body["components"] as? [String: [String: Any]])
                #expect(components["consumer:q"]?["detail"] as? String == "not consuming yet")
                #expect(components["amqp"]?["ready"] as? Bool == true)
            }
            health.set("consumer:q", ready: true)
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: TestTokens.opsAuthorization]) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
                let text = String(buffer: response.body)
                #expect(text.contains("# TYPE itr_events_consumed_total counter"))
                #expect(text.contains(#"itr_events_consumed_total{service="http-test",type="itr.ticket.opened"} 1"#))
            }
        }
    }

    @Test func errorsAreProblemJSON() async throws {
        let app = makeApp(health: HealthState(), metrics: ServiceMetrics(service: "http-test", registry: .init()))
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/things/1", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/things/2", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/problem+json")
                let body = try json(response.body)
                #expect(body["status"] as? Int == 404)
                #expect(body["title"] as? String == "Not Found")
                #expect(body["type"] as? String == "about:blank")
                #expect(body["detail"] as? String == "没有这个东西 2")
                let problems = try #require(body["problems"] as? [[String: String]])
                #expect(problems == [["path": "id", "code": "unknown", "message": "no such thing"]])
            }
            try await client.execute(uri: "/v1/boom", method: .get) { response in
                #expect(response.status == .internalServerError)
                #expect(response.headers[.contentType] == "application/problem+json")
                let body = try json(response.body)
                #expect(body["detail"] as? String == "An unexpected error occurred; see the service log.")
            }
            try await client.execute(uri: "/v1/teapot", method: .get) { response in
                #expect(response.status == .badRequest)
                let body = try json(response.body)
                #expect(body["detail"] as? String == "bad teapot")
            }
            try await client.execute(uri: "/nowhere", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/problem+json")
            }
        }
    }

    @Test func problemDetailsRoundTrip() throws {
        let problem = ProblemDetails.badRequest("2 problems", problems: [.init(path: "data.product", code: "missing", message: "必填")])
        let decoded = try JSONDecoder().decode(ProblemDetails.self, from: problem.jsonBody())
        #expect(decoded == problem)
        #expect(decoded.status == .badRequest)
    }
}
