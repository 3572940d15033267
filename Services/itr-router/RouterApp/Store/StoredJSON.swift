import Foundation
import ITRConfig
import ITREvents
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

    /// The fact stored as `text`: the texts `encode` writes by hand are read back by hand, any
    /// other goes through `TicketRepository.decoder`.
    static func decode(_ text: String) throws -> TicketFact {
        switch text {
        case #"{"opened":{}}"#: return .opened
        case #"{"acknowledged":{}}"#: return .acknowledged
        case #"{"resumed":{}}"#: return .resumed
        default: break
        }
        if let fields = fields(text, prefix: #"{"classified":{"priority":""#, keys: [#"","ruleId":""#, #"","rulesVersion":""#, #"","serviceType":""#]),
            let priority = Priority(rawValue: fields[0]), let serviceType = ServiceType(rawValue: fields[3])
        {
            return .classified(serviceType: serviceType, priority: priority, ruleId: fields[1], rulesVersion: fields[2])
        }
        if let fields = fields(text, prefix: #"{"assigned":{"group":""#, keys: [#"","tier":""#]) {
            return .assigned(tier: fields[1], group: fields[0])
        }
        return try TicketRepository.decoder.decode(TicketFact.self, from: Data(text.utf8))
    }

    /// The string values of `prefix` v0 `keys[0]` v1 ... `"}}`, each a plain string (nothing
    /// to unescape); nil when `text` has any other shape.
    private static func fields(_ text: String, prefix: String, keys: [String]) -> [String]? {
        guard text.hasPrefix(prefix), text.hasSuffix(#""}}"#) else { return nil }
        var rest = text.utf8.dropFirst(prefix.utf8.count).dropLast(3)
        var values: [String] = []
        values.reserveCapacity(keys.count + 1)
        for key in keys {
            guard let range = firstRange(of: key.utf8, in: rest) else { return nil }
            values.append(String(decoding: rest[rest.startIndex..<range.lowerBound], as: UTF8.self))
            rest = rest[range.upperBound...]
        }
        values.append(String(decoding: rest, as: UTF8.self))
        return values.allSatisfy(plain) ? values : nil
    }

    private static func firstRange(of needle: String.UTF8View, in haystack: Substring.UTF8View) -> Range<Substring.UTF8View.Index>? {
        guard let first = needle.first else { return nil }
        var index = haystack.startIndex
        while let found = haystack[index...].firstIndex(of: first) {
            if haystack[found...].starts(with: needle) {
                return found..<haystack.index(found, offsetBy: needle.count)
            }
            index = haystack.index(after: found)
        }
        return nil
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
