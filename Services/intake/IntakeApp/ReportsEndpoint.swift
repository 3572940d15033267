import AMQPClient
import Foundation
import Hummingbird
import ITREvents
import NIOCore
import ServiceKit

/// `POST /v1/reports`: one CloudEvent (HTTP binding, binary or structured mode) or a batch
/// (`application/cloudevents-batch+json`), from an upstream system holding a bearer token
/// bound to the `source` values it may use.
///
/// - 401 without a known token, 403 without the scope `reports:submit` (nothing read or kept),
///   403 when the token may not use the event's source (kept, within the token's kept-bytes budget);
/// - 202 `{"id","source","status":"opened"|"correlated"|"cleared","ticketId"}` when accepted,
///   200 with `"status":"duplicate"` and the existing ticket id for a repeat;
/// - 4xx `application/problem+json` listing every problem with its field path (400 unreadable
///   or unknown type, 422 schema violations, 413 over the size limits) — the original body and
///   headers are kept in `itr.rejected` and `itr.report.rejected` is emitted (a request body
///   over `maxRequestBytes` is kept truncated to that size, marked `x-itr-truncated`);
/// - a batch answers each item on its own: `{"results":[{"index","id","source","status","ticketId"|"reasonCode","problems"}]}`
///   with 202 when any item was accepted, 200 when all were duplicates, 400 (problem+json
///   with the same `results`) when none was.
public struct ReportsEndpoint: Sendable {
    public static let path = "/v1/reports"

    let intake: ReportIntake
    let authenticator: TokenAuthenticator
    let relay: OutboxRelay?

    public init(intake: ReportIntake, authenticator: TokenAuthenticator, relay: OutboxRelay?) {
        self.intake = intake
        self.authenticator = authenticator
        self.relay = relay
    }

    public func register(on router: Router<BasicRequestContext>) {
        router.post(RouterPath(Self.path)) { request, context in
            try await self.handle(request, context: context)
        }
    }

    func handle(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let received = ContinuousClock.now
        // 401/403 before the body is read: only a reports:submit token has refused input kept.
        let grant = try authenticator.authorize(authorization: request.headers[.authorization], anyOf: [.reportsSubmit])
        let configuration = intake.policy.configuration
        // The fields as they came (a repeated ce- header must repeat its value) for the codec; for
        // the kept original, repeated fields joined as HTTP combines them (RFC 9110 5.3).
        let fields = request.headers.map { (name: $0.name.canonicalName, value: $0.value) }
        var headers: [String: String] = [:]
        for field in fields { headers[field.name] = headers[field.name].map { $0 + ", " + field.value } ?? field.value }
        let limit = configuration.maxRequestBytes
        let (buffer, complete) = try await Self.collect(request.body, upTo: limit)
        guard complete else {
            // Kept like any rejected input, truncated to the limit (the rest is never read).
            var kept = Self.original(headers: headers, body: Data(buffer: buffer))
            kept.properties.headers["x-itr-truncated"] = .bool(true)
            if let length = request.headers[.contentLength] { kept.properties.headers["x-itr-content-length"] = .string(length) }
            let rejection = ReportRejection(
                ReportRejection.Reason.tooLarge,
                "the request body is larger than \(limit) bytes (its first \(limit) bytes are kept in itr.rejected)",
                problems: [ValidationProblem(path: "", code: .tooLarge, message: "larger than \(limit) bytes")])
            let outcomes = try await submit([ReportIntake.Item(event: nil, rejection: rejection, original: kept, submitter: grant.identity, receivedAt: received)])
            return try single(outcomes[0], event: nil)
        }
        let body = Data(buffer: buffer)
        let original = Self.original(headers: headers, body: body)

        let decoded: HTTPCloudEventCodec.Body
        do {
            decoded = try HTTPCloudEventCodec.decode(fields: fields, body: body)
        } catch {
            let outcomes = try await submit([ReportIntake.Item(event: nil, rejection: ReportRejection(error), original: original, submitter: grant.identity, receivedAt: received)])
            return try single(outcomes[0], event: nil)
        }

        switch decoded {
        case .single(let event):
            let item = ReportIntake.Item(
                event: event, rejection: authorization(grant, event), original: original, submitter: grant.identity, receivedAt: received)
            return try single(try await submit([item])[0], event: event)
        case .batch(let results):
            guard results.count <= configuration.maxBatchEvents else {
                throw ProblemDetails(
                    status: .contentTooLarge, detail: "a batch may hold at most \(configuration.maxBatchEvents) events, got \(results.count)",
                    problems: [.init(path: "", code: ValidationProblem.Code.tooMany.rawValue, message: "more than \(configuration.maxBatchEvents) events")])
            }
            let items = results.enumerated().map { index, result -> ReportIntake.Item in
                switch result {
                case .success(let event):
                    return ReportIntake.Item(
                        event: event, rejection: authorization(grant, event),
                        original: Self.original(batchItem: event, index: index, headers: headers), submitter: grant.identity,
                        receivedAt: received)
                case .failure(let error):
                    var kept = original
                    kept.properties.headers["x-itr-batch-index"] = .int64(Int64(index))
                    return ReportIntake.Item(event: nil, rejection: ReportRejection(error), original: kept, submitter: grant.identity, receivedAt: received)
                }
            }
            let outcomes = items.isEmpty ? [] : try await submit(items)
            return try batch(outcomes, items: items)
        }
    }

    /// Reads the body up to `limit` bytes: the bytes and true when it ended within the limit,
    /// else its first `limit` bytes and false (the rest is left unread).
    static func collect(_ body: RequestBody, upTo limit: Int) async throws -> (ByteBuffer, Bool) {
        var collected = ByteBuffer()
        for try await var chunk in body {
            let room = limit - collected.readableBytes
            if chunk.readableBytes > room {
                if room > 0, let slice = chunk.readSlice(length: room) { collected.writeImmutableBuffer(slice) }
                return (collected, false)
            }
            collected.writeBuffer(&chunk)
        }
        return (collected, true)
    }

    private func submit(_ items: [ReportIntake.Item]) async throws -> [IntakeOutcome] {
        let outcomes = try await intake.submit(items, via: .http)
        relay?.notify()
        return outcomes
    }

    /// A 403-kind rejection when the token may not use the event's source.
    private func authorization(_ grant: TokenAuthenticator.Grant, _ event: CloudEvent) -> ReportRejection? {
        guard !grant.allows(source: event.source) else { return nil }
        return ReportRejection(
            ReportRejection.Reason.unauthorizedSource, "this token may not submit events with source \"\(event.source)\"",
            problems: [ValidationProblem(path: "source", code: "forbidden", message: "source not allowed for this token")])
    }

    // MARK: Responses

    struct Result: Encodable {
        var index: Int?
        var id: String?
        var source: String?
        var status: String
        var ticketId: String?
        var reasonCode: String?
        var message: String?
        var problems: [ProblemDetails.Problem]?
    }

    static func result(_ outcome: IntakeOutcome, event: CloudEvent?, index: Int?) -> Result {
        var result = Result(index: index, id: event?.id, source: event?.source, status: outcome.status, ticketId: outcome.ticketId)
        if case .rejected(let rejection) = outcome {
            result.reasonCode = rejection.reasonCode
            result.message = rejection.message
            result.problems = rejection.problems.map { .init(path: $0.path, code: $0.code.rawValue, message: $0.message) }
        }
        return result
    }

    static func status(of rejection: ReportRejection) -> HTTPResponse.Status {
        switch rejection.reasonCode {
        case ReportRejection.Reason.tooLarge: .contentTooLarge
        case ReportRejection.Reason.unauthorizedSource: .forbidden
        case ReportRejection.Reason.validationFailed: .unprocessableContent
        default: .badRequest
        }
    }

    func single(_ outcome: IntakeOutcome, event: CloudEvent?) throws -> Response {
        switch outcome {
        case .rejected(let rejection):
            throw ProblemDetails(
                status: Self.status(of: rejection), detail: rejection.message,
                problems: rejection.problems.map { .init(path: $0.path, code: $0.code.rawValue, message: $0.message) })
        case .duplicate:
            return try json(.ok, Self.result(outcome, event: event, index: nil))
        default:
            return try json(.accepted, Self.result(outcome, event: event, index: nil))
        }
    }

    func batch(_ outcomes: [IntakeOutcome], items: [ReportIntake.Item]) throws -> Response {
        struct Body: Encodable {
            var results: [Result]
        }
        struct Problem: Encodable {
            var type = "about:blank"
            var title = "Bad Request"
            var status = 400
            var detail: String
            var problems: [ProblemDetails.Problem]
            var results: [Result]
        }
        let results = zip(outcomes, items).enumerated().map { index, pair in Self.result(pair.0, event: pair.1.event, index: index) }
        let accepted = outcomes.contains { if case .rejected = $0 { false } else if case .duplicate = $0 { false } else { true } }
        let duplicates = outcomes.contains { if case .duplicate = $0 { true } else { false } }
        if accepted || outcomes.isEmpty { return try json(.accepted, Body(results: results)) }
        if duplicates { return try json(.ok, Body(results: results)) }
        let problems = results.flatMap { result in
            (result.problems ?? []).map { ProblemDetails.Problem(path: "[\(result.index ?? 0)].\($0.path)", code: $0.code, message: $0.message) }
        }
        return try json(
            .badRequest, Problem(detail: "none of the \(outcomes.count) events was accepted", problems: problems, results: results),
            contentType: ProblemDetails.mediaType)
    }

    func json(_ status: HTTPResponse.Status, _ value: some Encodable, contentType: String = "application/json") throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        let data = try EventCoding.encode(value)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(data: data)))
    }

    // MARK: Originals kept for itr.rejected

    /// The request as an AMQP message: the body unchanged, the content type, every header but
    /// credentials (`ce-*` stay `ce-*`, so a binary-mode event remains one).
    static func original(headers: [String: String], body: Data) -> AMQPMessage {
        var properties = AMQPProperties.persistent
        for (name, value) in headers {
            let lower = name.lowercased()
            switch lower {
            case "authorization", "cookie", "proxy-authorization", "content-length": continue
            case "content-type": properties.contentType = value
            default: properties.headers[lower] = .string(value)
            }
        }
        properties.headers[ITRNames.originalExchangeHeader] = .string("http")
        properties.headers[ITRNames.originalRoutingKeyHeader] = .string("POST \(path)")
        return AMQPMessage(body: body, properties: properties)
    }

    /// One event of a batch as a structured-mode message.
    static func original(batchItem event: CloudEvent, index: Int, headers: [String: String]) -> AMQPMessage {
        var message = original(headers: headers, body: CloudEventJSON.encode(event))
        message.properties.contentType = CloudEventJSON.contentType
        message.properties.headers["x-itr-batch-index"] = .int64(Int64(index))
        return message
    }
}
