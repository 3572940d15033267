/// A collection field that may be absent (or null) in JSON and then reads as empty.
/// Always written, so readers that expect the field find it.
@propertyWrapper
public struct DefaultEmpty<Value: Codable & Sendable & Hashable & RangeReplaceableCollection>: Codable, Sendable,
    Hashable
{
    public var wrappedValue: Value
    public init(wrappedValue: Value = Value()) { self.wrappedValue = wrappedValue }
    public init(from decoder: any Decoder) throws {
        wrappedValue = try decoder.singleValueContainer().decode(Value.self)
    }
    public func encode(to encoder: any Encoder) throws { try wrappedValue.encode(to: encoder) }
}

extension KeyedDecodingContainer {
    public func decode<V>(_ type: DefaultEmpty<V>.Type, forKey key: Key) throws -> DefaultEmpty<V> {
        try decodeIfPresent(type, forKey: key) ?? DefaultEmpty()
    }
}

/// Marks which event type a generic payload (``DefectEvent``, ``OpportunityEvent``,
/// ``SLAClockEvent``) travels as.
public protocol EventKind: Sendable {
    static var eventType: EventType { get }
}
