import Foundation
import HTTPTypes
import Hummingbird
import ITREvents
import ServiceKit

/// The router's HTTP routes:
///
/// Every route needs a bearer token (`API_TOKENS` / `API_TOKENS_FILE`) with its scope: 401
/// problem+json without a (known) token, 403 with one that lacks the scope.
///
/// - `GET /v1/tickets/{id}` (`tickets:read`, or `customer:confirm` for its own accounts' tickets)
///   → ``TicketView`` (404 problem+json when unknown);
/// - `POST /v1/tickets/{id}/actions` (`tickets:act`; or `customer:confirm` for `confirm` and
///   `reopen` on its own accounts' tickets) → the `itr.ticket.action` data as JSON (`ticketId`
///   and `actor` may be left out). The actor is the token's identity, never the body's (a body
///   actor with the same id keeps its name and role). `ce-id` or `Idempotency-Key` makes a retry
///   safe (same id from the same identity = same effect once). 200 with the ticket view; 400
///   invalid body; 404 unknown ticket; 409 (or 422 for unknown values) problem+json naming the
///   refusal code;
/// - `GET /v1/service-levels` (`tickets:read`) → ``ServiceLevelReport``;
/// - `GET /v1/classifier` (`tickets:read`) → ``ClassifierView`` (the service-type model in force);
/// - `GET /v1/classifier/corrections[?after=SEQ]` (`tickets:read`) → the desk's `reclassify`
///   corrections as labelled JSONL (`application/x-ndjson`), what `itrctl classifier train` adds.
public struct RouterAPI: Sendable {
    /// The CloudEvent source of an HTTP action: this, `/`, the token's identity (the inbox key
    /// is source + id, so one identity's ids never collide with another's).
    public static let actionSourcePrefix = "/service-desk/http"
    /// What a `customer:confirm` token may do on its own accounts' tickets.
    public static let customerActions: Set<TicketActionKind> = [.confirm, .reopen]

    public let store: SQLStore
    public let rules: RulesHolder
    public let clock: any RouterClock
    public let authenticator: TokenAuthenticator
    public let relay: OutboxRelay?
    public let scheduler: DueScheduler?

    public init(
        store: SQLStore, rules: RulesHolder, clock: any RouterClock, authenticator: TokenAuthenticator,
        relay: OutboxRelay?, scheduler: DueScheduler?
    ) {
        self.store = store
        self.rules = rules
        self.clock = clock
        self.authenticator = authenticator
        self.relay = relay
        self.scheduler = scheduler
    }

    public func register(_ router: Router<BasicRequestContext>) {
        router.get("/v1/tickets/:id") { request, context in
            let grant = try self.grant(request, anyOf: [.ticketsRead, .customerConfirm])
            let id = try context.parameters.require("id")
            let rules = self.rules.current
            let now = self.clock.now()
            guard let view = try await self.store.read({ db in try TicketView.load(db, id: id, rules: rules, now: now) }) else {
                throw ProblemDetails.notFound("no ticket \(id)")
            }
            try Self.checkAccount(grant, account: view.account, ticket: id)
            return try Self.json(view)
        }
        router.get("/v1/classifier") { request, _ in
            _ = try self.grant(request, anyOf: [.ticketsRead])
            return try Self.json(ClassifierView(self.rules.current))
        }
        router.get("/v1/classifier/corrections") { request, _ in
            _ = try self.grant(request, anyOf: [.ticketsRead])
            let after = Int64(request.uri.queryParameters.get("after") ?? "0") ?? -1
            guard after >= 0 else { throw ProblemDetails.badRequest("after must be a sequence number (a whole number >= 0)") }
            let corrections = try await self.store.read { db in try TicketRepository.corrections(db, after: after) }
            var headers = HTTPFields()
            headers[.contentType] = "application/x-ndjson; charset=utf-8"
            let body = corrections.map { $0.jsonLine + "\n" }.joined()
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        }
        router.post("/v1/tickets/:id/actions") { request, context in
            try await self.postAction(request, id: try context.parameters.require("id"))
        }
        router.get("/v1/service-levels") { request, _ in
            _ = try self.grant(request, anyOf: [.ticketsRead])
            let query = request.uri.queryParameters
            var dimensions: [ServiceLevelReport.Dimension] = []
            for name in (query.get("groupBy") ?? "").split(separator: ",") {
                guard let dimension = ServiceLevelReport.Dimension(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                    throw ProblemDetails.badRequest(
                        "unknown groupBy \"\(name)\" (use \(ServiceLevelReport.Dimension.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                dimensions.append(dimension)
            }
            func date(_ name: String) throws -> Date? {
                guard let text = query.get(name) else { return nil }
                guard let value = RFC3339.parse(text) else { throw ProblemDetails.badRequest("\(name) must be an RFC 3339 timestamp") }
                return value
            }
            let from = try date("from")
            let to = try date("to")
            let period = query.get("period") ?? "month"
            let groupBy = dimensions
            let report: ServiceLevelReport
            do {
                report = try await self.store.read { db in
                    try ServiceLevelReport.compute(db, groupBy: groupBy, period: period, from: from, to: to)
                }
            } catch let error as ServiceLevelReport.BadQuery {
                throw ProblemDetails.badRequest(error.description)
            }
            return try Self.json(report)
        }
    }

    /// The request's grant when its token holds one of `scopes` (else 401 / 403).
    func grant(_ request: Request, anyOf scopes: [TokenAuthenticator.Scope]) throws(ProblemDetails) -> TokenAuthenticator.Grant {
        try authenticator.authorize(authorization: request.headers[.authorization], anyOf: scopes)
    }

    /// 403 unless `grant` reads all tickets or acts for the customer `account`.
    static func checkAccount(_ grant: TokenAuthenticator.Grant, account: String, ticket: String) throws(ProblemDetails) {
        if let refused = accountRefusal(grant, account: account, ticket: ticket) { throw refused }
    }

    /// The 403 for a customer token on a ticket of another account; nil when allowed.
    static func accountRefusal(_ grant: TokenAuthenticator.Grant, account: String, ticket: String) -> ProblemDetails? {
        guard !grant.has(.ticketsRead), !grant.has(.ticketsAct), !grant.actsFor(account: account) else { return nil }
        return ProblemDetails(
            status: .forbidden, type: "https://itr.example.com/problems/other-account", title: "other-account",
            detail: "ticket \(ticket) belongs to an account the token of \(grant.identity) does not act for")
    }

    /// The actor an action is recorded as: the token's identity (``Actor/bound(to:claimed:)``);
    /// a customer token's role is always `customer`.
    static func actor(of grant: TokenAuthenticator.Grant, claimed: Actor?) -> Actor {
        var actor = Actor.bound(to: grant.identity, claimed: claimed)
        if !grant.has(.ticketsAct) { actor.role = "customer" }
        return actor
    }

    func postAction(_ request: Request, id: String) async throws -> Response {
        let grant = try grant(request, anyOf: [.ticketsAct, .customerConfirm])
        let source = Self.actionSourcePrefix + "/" + grant.identity
        let eventId = Self.header(request, "ce-id") ?? Self.header(request, "idempotency-key") ?? CloudEvent.newID()
        let traceparent = Self.header(request, "traceparent"), tracestate = Self.header(request, "tracestate")
        // The same limits as on the AMQP path: these become the inbox key and the attributes of events.
        for (attribute, value) in [("id", eventId), ("traceparent", traceparent), ("tracestate", tracestate)] {
            guard let value else { continue }
            do {
                try CloudEventLimits.check(attribute, value)
            } catch {
                throw ProblemDetails.badRequest(
                    error.message, problems: [.init(path: attribute, code: ValidationProblem.Code.tooLong.rawValue, message: error.message)])
            }
        }
        let buffer = try await request.body.collect(upTo: ReportLimits.default.maxBodyBytes)
        let body = Data(buffer.readableBytesView)
        // Strict first: JSONSerialization would take a member named twice, one value silently winning.
        if let problem = EventCoding.checkWellFormed(body) { throw Self.invalid(ValidationFailure([problem])) }
        guard var object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            throw ProblemDetails.badRequest("the body must be a JSON object (the itr.ticket.action data)")
        }
        if let given = object["ticketId"] as? String, given != id {
            throw ProblemDetails.badRequest(
                "ticketId \(given) in the body differs from the path",
                problems: [.init(path: "data.ticketId", code: "inconsistent", message: "differs from the path \(id)")])
        }
        object["ticketId"] = id
        // The body may leave the actor out: it is the token's identity anyway (set below).
        if object["actor"] == nil { object["actor"] = ["id": grant.identity] }
        let data = try JSONSerialization.data(withJSONObject: object)
        let action: ITREvents.TicketAction
        switch EventCoding.decode(ITREvents.TicketAction.self, from: data) {
        case .failure(let failure):
            throw Self.invalid(failure)
        case .success(var decoded):
            let problems = decoded.validate(limits: .default, now: clock.validationNow())
            if !problems.isEmpty { throw Self.invalid(ValidationFailure(problems)) }
            decoded.actor = Self.actor(of: grant, claimed: decoded.actor)
            action = decoded
        }
        let customer = !grant.has(.ticketsAct)
        if customer, !Self.customerActions.contains(action.action) {
            throw ProblemDetails(
                status: .forbidden, type: "https://itr.example.com/problems/insufficient-scope", title: "insufficient-scope",
                detail: "a customer:confirm token may only \(Self.customerActions.map(\.rawValue).sorted().joined(separator: " or ")); \(action.action.rawValue) needs tickets:act",
                problems: [.init(path: "data.action", code: "insufficient-scope", message: "requires tickets:act")])
        }
        let cause = Cause(id: eventId, traceparent: traceparent, tracestate: tracestate)
        let rules = self.rules.current
        let now = clock.now()
        let outcome = try await store.write { db -> Result<(TicketView?, Date?), ProblemDetails> in
            // First: the same action posted to two instances at once is applied once (the second
            // waits, then finds the first's inbox claim).
            try RouterEngine.lockTicket(db, id)
            if customer {
                guard let account = try db.fetchOne("SELECT account FROM tickets WHERE id = ?", [.text(id)])?[0].string else {
                    return .failure(.notFound("no ticket \(id)"))
                }
                if let refused = Self.accountRefusal(grant, account: account, ticket: id) { return .failure(refused) }
            }
            if try Inbox.contains(db, source: source, id: eventId) {
                return .success((try TicketView.load(db, id: id, rules: rules, now: now), nil))
            }
            var engine = RouterEngine(rules: rules, now: now)
            do {
                try engine.act(db, action, cause: cause)
            } catch let refusal as ActionRefusal {
                return .failure(Self.problem(refusal))
            }
            _ = try Inbox.claim(db, source: source, id: eventId)
            return .success((try TicketView.load(db, id: id, rules: rules, now: now), engine.earliestDue))
        }
        switch outcome {
        case .failure(let problem):
            throw problem
        case .success(let (view, earliest)):
            relay?.notify()
            if let earliest { scheduler?.scheduled(earliest) }
            guard let view else { throw ProblemDetails.notFound("no ticket \(id)") }
            return try Self.json(view)
        }
    }

    static func problem(_ refusal: ActionRefusal) -> ProblemDetails {
        ProblemDetails(
            status: HTTPResponse.Status(code: refusal.status), type: "https://itr.example.com/problems/\(refusal.code)",
            title: refusal.code, detail: refusal.message,
            problems: [.init(path: "data.action", code: refusal.code, message: refusal.message)])
    }

    static func invalid(_ failure: ValidationFailure) -> ProblemDetails {
        .badRequest(
            "\(failure.problems.count) problem(s) in the action",
            problems: failure.problems.map { .init(path: $0.path, code: $0.code.rawValue, message: $0.message) })
    }

    static func header(_ request: Request, _ name: String) -> String? {
        guard let field = HTTPField.Name(name), let value = request.headers[field], !value.isEmpty else { return nil }
        return value
    }

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(
            status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(data: try EventCoding.encode(value))))
    }
}
