import Foundation
import ITREvents
import TextClassifier

/// A service-type correction by the desk (`reclassify`), kept as a labelled example: the report's
/// text with the type the desk gave it, and what the router had decided.
public struct ClassifierCorrection: Sendable, Hashable {
    public var seq: Int64
    public var ticketId: String
    public var at: Date
    public var title: String
    public var description: String?
    public var fromType: ServiceType?
    public var toType: ServiceType
    public var decidedBy: ServiceTypeDecision.Decider?
    public var modelVersion: String?
    public var confidence: Double?
    public var actor: String
    public var reason: String
    public var causeId: String?

    public init(
        seq: Int64 = 0, ticketId: String, at: Date, title: String, description: String?, fromType: ServiceType?,
        toType: ServiceType, decidedBy: ServiceTypeDecision.Decider?, modelVersion: String?, confidence: Double?,
        actor: String, reason: String, causeId: String?
    ) {
        self.seq = seq
        self.ticketId = ticketId
        self.at = at
        self.title = title
        self.description = description
        self.fromType = fromType
        self.toType = toType
        self.decidedBy = decidedBy
        self.modelVersion = modelVersion
        self.confidence = confidence
        self.actor = actor
        self.reason = reason
        self.causeId = causeId
    }

    /// The labelled example `itrctl classifier train` reads (family `desk-correction`).
    public var example: LabelledExample {
        LabelledExample(
            title: title, description: description, label: toType.rawValue,
            lang: LabelledExample.guessLanguage(FeatureExtractor.text(title: title, description: description)),
            family: "desk-correction")
    }

    /// One JSONL line: the labelled example's keys plus where it came from.
    public var jsonLine: String {
        let example = self.example
        var object: [String: Any] = [
            "title": title, "serviceType": toType.rawValue, "lang": example.lang ?? "en", "family": example.family ?? "",
            "ticketId": ticketId, "correctedAt": RFC3339.format(at), "actor": actor, "reason": reason, "seq": seq,
        ]
        if let description, !description.isEmpty { object["description"] = description }
        if let fromType { object["fromServiceType"] = fromType.rawValue }
        if let decidedBy { object["decidedBy"] = decidedBy.rawValue }
        if let modelVersion { object["modelVersion"] = modelVersion }
        if let confidence { object["confidence"] = confidence }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
