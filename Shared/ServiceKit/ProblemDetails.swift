import Foundation
import HTTPTypes
import Hummingbird

/// An RFC 9457 problem document (`application/problem+json`). Throw it from a route and
/// ``ProblemDetailsMiddleware`` turns it into the response.
///
///     {"type":"about:blank","title":"Bad Request","status":400,"detail":"2 problems in the event",
///      "problems":[{"path":"data.product","code":"missing","message":"product is required"}]}
public struct ProblemDetails: Error, Sendable, Hashable, Codable, HTTPResponseError {
    /// One specific thing wrong with the request, named by its JSON path and a stable code.
    public struct Problem: Sendable, Hashable, Codable {
        public var path: String
        public var code: String
        public var message: String

        public init(path: String, code: String, message: String) {
            self.path = path
            self.code = code
            self.message = message
        }
    }

    public var type: String
    public var title: String
    public var statusCode: Int
    public var detail: String?
    public var instance: String?
    public var problems: [Problem]
    /// Extra response headers (e.g. `WWW-Authenticate`); not part of the JSON body.
    public var extraHeaders: [String: String]

    public static let mediaType = "application/problem+json"

    public init(
        status: HTTPResponse.Status, type: String = "about:blank", title: String? = nil, detail: String? = nil,
        instance: String? = nil, problems: [Problem] = [], headers: [String: String] = [:]
    ) {
        self.type = type
        self.title = title ?? status.reasonPhrase
        self.statusCode = status.code
        self.detail = detail
        self.instance = instance
        self.problems = problems
        self.extraHeaders = headers
    }

    public var status: HTTPResponse.Status { HTTPResponse.Status(code: statusCode) }

    enum CodingKeys: String, CodingKey {
        case type, title, status, detail, instance, problems
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        type = try container.decodeIfPresent(String.self, forKey: .type) ?? "about:blank"
        statusCode = try container.decode(Int.self, forKey: .status)
        title = try container.decodeIfPresent(String.self, forKey: .title) ?? HTTPResponse.Status(code: statusCode).reasonPhrase
        detail = try container.decodeIfPresent(String.self, forKey: .detail)
        instance = try container.decodeIfPresent(String.self, forKey: .instance)
        problems = try container.decodeIfPresent([Problem].self, forKey: .problems) ?? []
        extraHeaders = [:]
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        try container.encode(title, forKey: .title)
        try container.encode(statusCode, forKey: .status)
        try container.encodeIfPresent(detail, forKey: .detail)
        try container.encodeIfPresent(instance, forKey: .instance)
        try container.encode(problems, forKey: .problems)
    }

    /// The JSON body.
    public func jsonBody() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)) ?? Data(#"{"status":500,"title":"Internal Server Error"}"#.utf8)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = Self.mediaType
        for (name, value) in extraHeaders {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(data: jsonBody())))
    }

    // MARK: Common problems

    public static func badRequest(_ detail: String, problems: [Problem] = []) -> ProblemDetails {
        ProblemDetails(status: .badRequest, detail: detail, problems: problems)
    }

    public static func notFound(_ detail: String) -> ProblemDetails {
        ProblemDetails(status: .notFound, detail: detail)
    }

    public static func unauthorized(_ detail: String) -> ProblemDetails {
        ProblemDetails(status: .unauthorized, detail: detail, headers: ["WWW-Authenticate": "Bearer"])
    }

    public static func forbidden(_ detail: String) -> ProblemDetails {
        ProblemDetails(status: .forbidden, detail: detail)
    }
}
