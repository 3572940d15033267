/// A minimal FIFO with O(1) amortised append and removal at the front (the client needs no more).
struct Deque<Element> {
    private var storage: [Element] = []
    private var head = 0

    var isEmpty: Bool { head == storage.count }
    var count: Int { storage.count - head }

    mutating func append(_ element: Element) { storage.append(element) }

    mutating func popFirst() -> Element? {
        guard head < storage.count else { return nil }
        let e = storage[head]
        head += 1
        if head > 1024, head * 2 > storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return e
    }

    mutating func prepend(contentsOf elements: [Element]) {
        guard !elements.isEmpty else { return }
        storage.replaceSubrange(0..<head, with: [])
        head = 0
        storage.insert(contentsOf: elements, at: 0)
    }
}
