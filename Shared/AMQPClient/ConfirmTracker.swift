/// Publisher-confirm bookkeeping for one channel in confirm mode: a pure value type, no IO.
///
/// Sequence numbers start at 1 on every (re)opened channel. The broker acknowledges
/// with `basic.ack` / `basic.nack`, either one tag or, with `multiple`, every outstanding tag
/// up to and including it.
struct ConfirmTracker<Pending> {
    private(set) var nextSequence: UInt64 = 1
    private var outstanding: [UInt64: Pending] = [:]
    /// No outstanding sequence number is below this.
    private var lowest: UInt64 = 1

    var count: Int { outstanding.count }
    var isEmpty: Bool { outstanding.isEmpty }

    /// Records a message about to be published and returns its sequence number.
    mutating func register(_ pending: Pending) -> UInt64 {
        let seq = nextSequence
        nextSequence += 1
        outstanding[seq] = pending
        return seq
    }

    /// Resolves what a `basic.ack` / `basic.nack` covers, in sequence order.
    /// Tags that are not outstanding (already resolved, or from before a reset) are ignored.
    mutating func resolve(tag: UInt64, multiple: Bool) -> [(sequence: UInt64, pending: Pending)] {
        var resolved: [(sequence: UInt64, pending: Pending)] = []
        if multiple {
            guard tag >= lowest else { return [] }
            let upper = min(tag, nextSequence - 1)
            if upper >= lowest {
                resolved.reserveCapacity(Int(upper - lowest + 1))
                for seq in lowest...upper {
                    if let p = outstanding.removeValue(forKey: seq) { resolved.append((seq, p)) }
                }
            }
            lowest = max(lowest, upper + 1)
        } else if let p = outstanding.removeValue(forKey: tag) {
            resolved.append((tag, p))
        }
        while lowest < nextSequence, outstanding[lowest] == nil { lowest += 1 }
        return resolved
    }

    /// The outstanding sequence numbers in order (for matching a `basic.return`).
    func sequences(where predicate: (Pending) -> Bool) -> [UInt64] {
        outstanding.filter { predicate($0.value) }.keys.sorted()
    }

    func pending(_ sequence: UInt64) -> Pending? { outstanding[sequence] }

    mutating func update(_ sequence: UInt64, _ body: (inout Pending) -> Void) {
        guard var p = outstanding[sequence] else { return }
        body(&p)
        outstanding[sequence] = p
    }

    /// The channel is gone: returns everything still outstanding, in publish order, and starts over.
    mutating func reset() -> [Pending] {
        let all = outstanding.sorted { $0.key < $1.key }.map(\.value)
        outstanding.removeAll(keepingCapacity: true)
        nextSequence = 1
        lowest = 1
        return all
    }
}
