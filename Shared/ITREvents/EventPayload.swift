import Foundation

/// The data of one event type: Codable (camelCase JSON), validated with paths under `data`.
public protocol EventPayload: Codable, Sendable, Hashable {
    /// The CloudEvents `type` this payload travels as.
    static var eventType: EventType { get }
    /// Every problem, each with its JSON path (`data.product.line`) and a stable code.
    func validate(limits: ReportLimits, now: Date) -> [ValidationProblem]
}

extension EventPayload {
    public func validate() -> [ValidationProblem] { validate(limits: .default, now: Date()) }
}

extension CloudEvent {
    /// An event carrying `payload` as JSON, with `type` and `dataschema` from its ``EventType``.
    public init<P: EventPayload>(
        source: String, payload: P, id: String = CloudEvent.newID(), subject: String? = nil, time: Date? = Date(),
        extensions: [String: String] = [:]
    ) throws(CloudEventError) {
        try self.init(
            id: id, source: source, type: P.eventType.rawValue, subject: subject, time: time,
            dataschema: P.eventType.dataschema, encoding: payload, extensions: extensions)
    }

    /// Decodes and validates the data as `P`: type mismatches, JSON type errors, unknown enum
    /// values and rule violations all come back as problems with paths.
    public func decodePayload<P: EventPayload>(
        _ type: P.Type = P.self, limits: ReportLimits = .default, now: Date = Date()
    ) -> Result<P, ValidationFailure> {
        if self.type != P.eventType.rawValue {
            return .failure(ValidationFailure([
                ValidationProblem(
                    path: "type", code: .unknownValue, message: "expected \(P.eventType.rawValue), got \(self.type)")
            ]))
        }
        guard let data, !data.isEmpty else {
            return .failure(ValidationFailure([ValidationProblem(path: "data", code: .missing, message: "event has no data")]))
        }
        if data.count > limits.maxBodyBytes {
            return .failure(ValidationFailure([
                ValidationProblem(path: "data", code: .tooLarge, message: "larger than \(limits.maxBodyBytes) bytes")
            ]))
        }
        if !hasJSONData {
            return .failure(ValidationFailure([
                ValidationProblem(
                    path: "datacontenttype", code: .unknownValue,
                    message: "data must be application/json, got \(datacontenttype ?? "")")
            ]))
        }
        switch EventCoding.decode(P.self, from: data) {
        case .failure(let problems): return .failure(problems)
        case .success(let payload):
            let problems = payload.validate(limits: limits, now: now)
            return problems.isEmpty ? .success(payload) : .failure(ValidationFailure(problems))
        }
    }
}
