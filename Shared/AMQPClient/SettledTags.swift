/// Which delivery tags of one channel are settled: every tag up to `floor`, plus a sparse set
/// above it. Delivery tags count 1, 2, 3... per channel, so a run of settled tags from the
/// floor can be acknowledged with one `multiple` ack. A pure value type.
struct SettledTags {
    private(set) var floor: UInt64 = 0
    private var above: Set<UInt64> = []

    mutating func settle(_ tag: UInt64) {
        guard tag > floor else { return }
        if tag == floor + 1 {
            floor = tag
            while above.remove(floor + 1) != nil { floor += 1 }
        } else {
            above.insert(tag)
        }
    }

    mutating func settleThrough(_ tag: UInt64) {
        guard tag > floor else { return }
        floor = tag
        above = above.filter { $0 > tag }
        while above.remove(floor + 1) != nil { floor += 1 }
    }

    func isSettled(_ tag: UInt64) -> Bool { tag <= floor || above.contains(tag) }
}
