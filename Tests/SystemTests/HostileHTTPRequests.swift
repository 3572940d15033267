import Foundation
import ITREvents
import ITRTestSupport

/// One hostile HTTP request to a service, and what must become of it.
struct HostileRequest: Sendable {
    enum Target: String, Sendable { case intake, router = "itr-router" }

    var tag: String
    var category: String
    var target: Target
    var method: String
    var path: String
    var headers: [String: String]
    var body: Data?
    /// Copies intake must keep in `itr.rejected` with this tag (nil: not certain, e.g. the
    /// HTTP server itself refused the request before intake saw it).
    var keptCopies: Int?
    /// The kept copy's content type was cut (`x-itr-truncated-properties` names content_type).
    var contentTypeCut = false
}

/// The hostile HTTP requests of ``HostileInputTests``: over-long Content-Type (the issue's
/// original defect: a kept copy AMQP could not carry), huge headers, bad JSON, wrong media
/// types, batches of bad items, bad credentials, oversized bodies, wrong methods and paths,
/// and the router's ticket and service-level endpoints. Every one must be answered 4xx.
enum HostileHTTPRequests {
    static let token = "hostile-suite-token-上海"
    static let tagHeader = "X-Hostile"

    static func generate(seed: UInt64, count: Int, maxRequestBytes: Int = 1 << 20) -> [HostileRequest] {
        var rng = SplitMix64(seed: seed)
        var requests: [HostileRequest] = []
        let auth = ["Authorization": "Bearer \(token)"]
        func binary(_ id: String, type: String = EventType.reportSubmitted.rawValue) -> [String: String] {
            ["ce-specversion": "1.0", "ce-id": id, "ce-source": "crm://hostile/http", "ce-type": type]
        }
        let validData = try! EventCoding.encode(ReportSubmitted(
            sourceSystem: "crm-portal", channel: .portal, upstreamId: "HTTP-HOSTILE",
            customer: Customer(account: "ACC-1001", name: "中国联通北京分公司"),
            product: Product(line: "optical", model: "OSN 8800", version: "V100R012"),
            summary: "光模块告警", occurredAt: Date().addingTimeInterval(-120), language: .zh))
        let broken = validData.prefix(validData.count / 2)
        let categories = [
            "long-content-type", "huge-header", "bad-json", "wrong-media-type", "batch-bad-items", "bad-auth",
            "oversized-body", "missing-ce-headers", "unknown-type", "wrong-method", "forbidden-source",
            "router-ticket", "router-action", "router-service-levels",
        ]
        for i in 0..<count {
            let tag = "http-\(i)"
            let category = i < categories.count ? categories[i] : categories.randomElement(using: &rng)!
            var r = HostileRequest(
                tag: tag, category: category, target: .intake, method: "POST", path: "/v1/reports",
                headers: auth.merging([tagHeader: tag]) { $1 }, body: nil, keptCopies: 1)
            let id = "http-hostile-\(i)"
            switch category {
            case "long-content-type":
                let base = ["application/json", "application/cloudevents+json", "application/cloudevents-batch+json"]
                    .randomElement(using: &rng)!
                r.headers["Content-Type"] = base + "; x=" + String(repeating: "長", count: Int.random(in: 90...1500, using: &rng))
                r.headers.merge(binary(id)) { $1 }
                r.body = Data(broken)
                r.contentTypeCut = true
            case "huge-header":
                let size = [4_000, 16_000, 40_000, 70_000, 120_000].randomElement(using: &rng)!
                r.headers["X-Junk"] = String(repeating: "j", count: size)
                r.headers["Content-Type"] = "application/json"
                r.headers.merge(binary(id)) { $1 }
                r.body = Data(broken)
                // the HTTP server may refuse a header section this large before intake sees it
                if size > 16_000 { r.keptCopies = nil }
            case "bad-json":
                r.headers["Content-Type"] = ["application/cloudevents+json", "application/json"].randomElement(using: &rng)!
                if r.headers["Content-Type"] == "application/json" { r.headers.merge(binary(id)) { $1 } }
                r.body = [Data("{".utf8), Data("{\"specversion\":\"1.0\",".utf8), Data("null".utf8), Data([0xFF, 0xFE]), Data(broken)]
                    .randomElement(using: &rng)!
            case "wrong-media-type":
                r.headers["Content-Type"] = ["text/plain", "application/xml", "multipart/form-data; boundary=x", "image/png", "application/x-www-form-urlencoded"]
                    .randomElement(using: &rng)!
                if Bool.random(using: &rng) { r.headers.merge(binary(id)) { $1 } }
                r.body = Data("summary=光模块告警&x=1".utf8)
            case "batch-bad-items":
                r.headers["Content-Type"] = "application/cloudevents-batch+json"
                let n = Int.random(in: 1...20, using: &rng)
                let items: [Any] = (0..<n).map { j in
                    [
                        ["specversion": "1.0", "id": "\(id)-\(j)", "source": "crm://hostile/http", "type": "com.example.unknown", "data": [:]],
                        ["specversion": "1.0", "id": "\(id)-\(j)", "source": "crm://hostile/http", "type": EventType.reportSubmitted.rawValue, "data": ["summary": 42]],
                        ["specversion": "0.3", "id": "\(id)-\(j)"],
                        "一个字符串", 7,
                    ].randomElement(using: &rng)!
                }
                r.body = try! JSONSerialization.data(withJSONObject: items)
                r.keptCopies = n
                if Int.random(in: 0..<8, using: &rng) == 0 {
                    // not an array at all, or too many events
                    if Bool.random(using: &rng) {
                        r.body = Data("{\"not\": \"an array\"}".utf8)
                        r.keptCopies = 1
                    } else {
                        r.body = try! JSONSerialization.data(withJSONObject: (0..<501).map { _ in ["specversion": "0.3"] })
                        r.keptCopies = nil
                    }
                }
            case "bad-auth":
                r.headers["Authorization"] = ["", "Bearer wrong-token", "Basic Z3Vlc3Q6Z3Vlc3Q=", "Bearer " + String(repeating: "t", count: 8000), "bearer"]
                    .randomElement(using: &rng)!
                if r.headers["Authorization"] == "" { r.headers["Authorization"] = nil }
                r.headers["Content-Type"] = "application/json"
                r.headers.merge(binary(id)) { $1 }
                r.body = validData
                r.keptCopies = 0
            case "oversized-body":
                r.headers["Content-Type"] = "application/json"
                r.headers.merge(binary(id)) { $1 }
                r.body = Data(repeating: UInt8(ascii: " "), count: maxRequestBytes + Int.random(in: 1...(2 << 20), using: &rng))
            case "missing-ce-headers":
                r.headers["Content-Type"] = "application/json"
                var ce = binary(id)
                ce[["ce-id", "ce-source", "ce-type", "ce-specversion"].randomElement(using: &rng)!] = nil
                r.headers.merge(ce) { $1 }
                r.body = validData
            case "unknown-type":
                r.headers["Content-Type"] = "application/json"
                r.headers.merge(binary(id, type: ["工单.提交", "com.example.x", "itr.ticket.action", "ITR.REPORT.SUBMITTED"].randomElement(using: &rng)!)) { $1 }
                r.body = validData
            case "wrong-method":
                r.method = ["GET", "PUT", "DELETE", "PATCH"].randomElement(using: &rng)!
                r.path = ["/v1/reports", "/v1/reports/x", "/v1/../../etc/passwd", "/v1/%E5%B7%A5%E5%8D%95", "/v2/reports"].randomElement(using: &rng)!
                r.body = r.method == "GET" || r.method == "DELETE" ? nil : validData
                r.keptCopies = 0
            case "forbidden-source":
                // a token bound to one source, used for another: 403, kept
                r.headers["Authorization"] = "Bearer hostile-other-token"
                r.headers["Content-Type"] = "application/json"
                r.headers.merge(binary(id)) { $1 }
                r.body = validData
            case "router-ticket":
                r.target = .router
                r.method = "GET"
                let ids = ["TKT-NONE", "%E5%B7%A5%E5%8D%95-%E4%B8%8D%E5%AD%98%E5%9C%A8", String(repeating: "9", count: 2000), "'%20OR%201%3D1", "%00"]
                r.path = "/v1/tickets/\(ids.randomElement(using: &rng)!)"
                r.keptCopies = 0
            case "router-action":
                r.target = .router
                r.path = "/v1/tickets/TKT-HOSTILE-\(i)/actions"
                r.headers["Content-Type"] = "application/json"
                switch Int.random(in: 0..<5, using: &rng) {
                case 0: r.headers["Authorization"] = nil; r.body = Data("{\"action\":\"note\"}".utf8)
                case 1: r.body = Data("{\"action\":".utf8)
                case 2: r.body = Data("{\"action\":\"fly\",\"actor\":{\"id\":\"x\"}}".utf8)
                case 3: r.body = Data("{\"action\":\"note\",\"note\":\"备注\",\"actor\":{\"id\":\"eng-1\",\"role\":\"engineer\"}}".utf8)  // unknown ticket
                default: r.body = Data("[1,2,3]".utf8)
                }
                r.keptCopies = 0
            default:  // router-service-levels
                r.target = .router
                r.method = "GET"
                r.path = ["/v1/service-levels?groupBy=nonsense", "/v1/service-levels?from=yesterday", "/v1/service-levels?to=%E6%98%A8%E5%A4%A9", "/v1/service-levels?groupBy=priority,%E4%BC%98%E5%85%88%E7%BA%A7"]
                    .randomElement(using: &rng)!
                r.keptCopies = 0
            }
            requests.append(r)
        }
        return requests
    }
}
