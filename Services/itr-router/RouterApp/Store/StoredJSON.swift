import Foundation
import Synchronization

/// The JSON text stored for a lifecycle fact (`ticket_history.fact`), byte for byte what
/// `TicketRepository.encoder` (synthesized `Codable`, sorted keys) writes, without building a
/// `JSONEncoder` container per fact: the facts every ticket records are written by hand, the
/// rarer ones (and any string that would need escaping) go through the encoder.
enum FactJSON {
    static func encode(_ fact: TicketFact) throws -> String {
        switch fact {
        case .opened: return #"{"opened":{}}"#
        case .acknowledged: return #"{"acknowledged":{}}"#
        case .resumed: return #"{"resumed":{}}"#
        case let .classified(serviceType, priority, ruleId, rulesVersion)
        where plain(ruleId) && plain(rulesVersion) && plain(serviceType.rawValue) && plain(priority.rawValue):
            return #"{"classified":{"priority":""# + priority.rawValue + #"","ruleId":""# + ruleId
                + #"","rulesVersion":""# + rulesVersion + #"","serviceType":""# + serviceType.rawValue + #""}}"#
        case let .assigned(tier, group) where plain(tier) && plain(group):
            return #"{"assigned":{"group":""# + group + #"","tier":""# + tier + #""}}"#
        default:
            return String(decoding: try TicketRepository.encoder.encode(fact), as: UTF8.self)
        }
    }

    /// True when the string is written as is inside JSON quotes (no quote, backslash, slash or control character).
    static func plain(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") && $0 != UInt8(ascii: "/") }
    }
}

/// The JSON text stored for a due moment's kind (`due_moments.kind`): what
/// `TicketRepository.encoder` writes, kept per kind (a rules snapshot plans few distinct ones).
enum MomentKindJSON {
    private static let cache = Mutex<[PlannedMoment.Kind: String]>([:])
    private static let capacity = 4_096

    static func encode(_ kind: PlannedMoment.Kind) throws -> String {
        switch kind {
        case .responseBreach: return #"{"responseBreach":{}}"#
        case .slaBreach: return #"{"slaBreach":{}}"#
        case .autoClose: return #"{"autoClose":{}}"#
        default: break
        }
        if let text = cache.withLock({ $0[kind] }) { return text }
        let text = String(decoding: try TicketRepository.encoder.encode(kind), as: UTF8.self)
        cache.withLock { cache in
            if cache.count >= capacity { cache.removeAll() }
            cache[kind] = text
        }
        return text
    }
}
