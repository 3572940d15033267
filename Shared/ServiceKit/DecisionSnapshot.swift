import Foundation

/// The reads a pure decision made that the snapshot it was given does not hold.
public struct SnapshotNeeds<Read: Sendable & Hashable>: Error, Sendable, Hashable {
    public var reads: [Read]
    public init(reads: [Read]) { self.reads = reads }
}

/// What a service's pure decisions read of its store (the router's tickets and problems,
/// ipd-feedback's defect book), loaded before deciding. A read the decision makes that is not
/// held throws ``SnapshotNeeds``; ``decide(load:_:)`` loads what it names and asks again.
public protocol DecisionSnapshot {
    associatedtype Read: Sendable & Hashable
    /// Whether `read` is loaded.
    func holds(_ read: Read) -> Bool
}

extension DecisionSnapshot {
    /// The answer `answers` holds for `key`, or ``SnapshotNeeds`` naming `read`.
    public func answer<Key: Hashable, Value>(
        _ answers: [Key: Value], _ key: Key, else read: Read
    ) throws(SnapshotNeeds<Read>) -> Value {
        guard let value = answers[key] else { throw SnapshotNeeds(reads: [read]) }
        return value
    }

    /// Decides on this snapshot: each pass that names reads it lacks has them loaded and is asked
    /// again, so a decision takes as many passes as it has reads it could not know in advance.
    /// A pass naming only what is held would loop for ever: that is thrown.
    public mutating func decide<Effects>(
        load: (inout Self, [Read]) throws -> Void, _ decide: (Self) throws -> Effects
    ) throws -> Effects {
        while true {
            do {
                return try decide(self)
            } catch let needs as SnapshotNeeds<Read> {
                guard needs.reads.contains(where: { !holds($0) }) else { throw SnapshotLoop(reads: "\(needs.reads)") }
                try load(&self, needs.reads)
            }
        }
    }
}

/// A decision asked again for reads its snapshot holds (a bug in the decision).
public struct SnapshotLoop: Error, CustomStringConvertible {
    public var reads: String
    public var description: String { "the decision asked again for reads it holds: \(reads)" }
}
