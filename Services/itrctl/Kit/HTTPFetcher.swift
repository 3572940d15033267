import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A small HTTP client for the services' endpoints. Requests carry the bearer token `token`
/// (default `$ITR_API_TOKEN`) unless they set `Authorization` themselves: the services answer
/// everything but `/healthz` and `/readyz` only with a token of the right scope.
public struct HTTPFetcher: Sendable {
    public struct Response: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: Data
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var url: String
        public var message: String
        public var description: String { "\(url): \(message)" }
    }

    public var timeout: TimeInterval
    public var token: String?

    public init(timeout: TimeInterval = 5, token: String? = ProcessInfo.processInfo.environment["ITR_API_TOKEN"]) {
        self.timeout = timeout
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
    }

    private static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = 8
        return URLSession(configuration: configuration)
    }()

    public func get(_ url: String, headers: [String: String] = [:]) async throws -> Response {
        try await send("GET", url, headers: headers, body: nil)
    }

    public func post(_ url: String, headers: [String: String], body: Data) async throws -> Response {
        try await send("POST", url, headers: headers, body: body)
    }

    public func send(_ method: String, _ url: String, headers: [String: String], body: Data?) async throws -> Response {
        guard let target = URL(string: url) else { throw Failure(url: url, message: "not a URL") }
        var request = URLRequest(url: target, timeoutInterval: timeout)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = body
        do {
            let (data, response) = try await Self.session.data(for: request)
            guard let http = response as? HTTPURLResponse else { throw Failure(url: url, message: "not an HTTP response") }
            var fields: [String: String] = [:]
            for (key, value) in http.allHeaderFields {
                if let k = key as? String, let v = value as? String { fields[k.lowercased()] = v }
            }
            return Response(status: http.statusCode, headers: fields, body: data)
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(url: url, message: error.localizedDescription)
        }
    }

    /// GET and decode JSON; throws on a non-2xx answer.
    public func getJSON<T: Decodable>(_ type: T.Type, _ url: String) async throws -> T {
        let response = try await get(url, headers: ["Accept": "application/json"])
        guard (200..<300).contains(response.status) else {
            throw Failure(url: url, message: "HTTP \(response.status): \(response.text.prefix(300))")
        }
        do {
            return try JSONDecoder().decode(T.self, from: response.body)
        } catch {
            throw Failure(url: url, message: "unexpected answer: \(error)")
        }
    }
}
