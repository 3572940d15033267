import AMQPClient
import ArgumentParser
import Foundation
import Logging

/// Where the broker and the services are.
public struct ConnectionOptions: ParsableArguments, Sendable {
    @Option(name: .customLong("amqp-url"), help: "The broker (default: $AMQP_URL, else amqp://guest:guest@127.0.0.1:5672/%2f).")
    public var amqpURL: String?

    @Option(name: .customLong("host"), help: "Host of the four services' HTTP listeners.")
    public var host: String = "127.0.0.1"

    @Option(name: .customLong("intake-url"), help: "Base URL of intake (default http://HOST:8080).")
    public var intakeURL: String?
    @Option(name: .customLong("router-url"), help: "Base URL of itr-router (default http://HOST:8081).")
    public var routerURL: String?
    @Option(name: .customLong("ltc-url"), help: "Base URL of ltc-extractor (default http://HOST:8082).")
    public var ltcURL: String?
    @Option(name: .customLong("ipd-url"), help: "Base URL of ipd-feedback (default http://HOST:8083).")
    public var ipdURL: String?
    @Option(
        name: .customLong("instance-url"),
        help: "A further instance of a service, PRODUCT=URL (repeatable): the summary adds up its /metrics with the first one's.")
    public var instanceURLs: [String] = []

    public init() {}

    public var resolvedAMQPURL: String {
        amqpURL ?? ProcessInfo.processInfo.environment["AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/%2f"
    }

    public var endpoints: ServiceEndpoints {
        var e = ServiceEndpoints(host: host)
        if let intakeURL { e.intake = intakeURL }
        if let routerURL { e.router = routerURL }
        if let ltcURL { e.ltc = ltcURL }
        if let ipdURL { e.ipd = ipdURL }
        for entry in instanceURLs {
            guard let equals = entry.firstIndex(of: "=") else { continue }
            e.further[String(entry[..<equals]), default: []].append(String(entry[entry.index(after: equals)...]))
        }
        return e
    }

    public func validate() throws {
        let products = Set(ServiceEndpoints().all.map(\.product))
        for entry in instanceURLs {
            guard let equals = entry.firstIndex(of: "="), products.contains(String(entry[..<equals])),
                URL(string: String(entry[entry.index(after: equals)...]))?.scheme != nil
            else {
                throw ValidationError("--instance-url takes PRODUCT=URL with PRODUCT one of \(products.sorted().joined(separator: ", ")), got \(entry)")
            }
        }
    }

    /// A connection for a short command (one attempt, no retry loop).
    public func connect() async throws -> AMQPConnection {
        var configuration = try AMQPConfiguration(url: resolvedAMQPURL)
        configuration.connectionName = "itrctl"
        var logger = Logger(label: "itrctl")
        logger.logLevel = .warning
        return try await AMQPConnection.connect(configuration, logger: logger)
    }
}

/// Base URLs of the four services.
public struct ServiceEndpoints: Sendable, Hashable, Codable {
    public var intake: String
    public var router: String
    public var ltc: String
    public var ipd: String
    /// The further instances of a product (`--instance-url`), beyond the one above.
    public var further: [String: [String]] = [:]

    public init(host: String = "127.0.0.1") {
        intake = "http://\(host):8080"
        router = "http://\(host):8081"
        ltc = "http://\(host):8082"
        ipd = "http://\(host):8083"
    }

    public init(intake: String, router: String, ltc: String, ipd: String) {
        self.intake = intake
        self.router = router
        self.ltc = ltc
        self.ipd = ipd
    }

    /// Every instance of `product`: the one of ``all``, then the further ones.
    public func instances(of product: String) -> [String] {
        (all.first { $0.product == product }.map { [$0.url] } ?? []) + (further[product] ?? [])
    }

    /// Product name and base URL, in start order.
    public var all: [(product: String, url: String)] {
        [("intake", intake), ("itr-router", router), ("ltc-extractor", ltc), ("ipd-feedback", ipd)]
    }
}

/// `--json` for commands that print a report.
public struct OutputOptions: ParsableArguments, Sendable {
    @Flag(name: .long, help: "Print JSON (one document) instead of text, for scripts.")
    public var json = false

    public init() {}
}
