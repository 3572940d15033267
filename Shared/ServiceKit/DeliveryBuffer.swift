import Synchronization

/// Deliveries received but not yet handed to the handler. The consumer loop takes everything
/// buffered (up to a maximum) at once, waiting only when the buffer is empty.
final class DeliveryBuffer: Sendable {
    private struct State {
        var items: [any AcknowledgeableDelivery] = []
        var head = 0
        /// No more items will come; what is buffered is still handed out.
        var finished = false
        /// Stop handing out items, even buffered ones (graceful shutdown).
        var closed = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func append(_ item: any AcknowledgeableDelivery) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.items.append(item)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func finish() { update { $0.finished = true } }

    func close() { update { $0.closed = true } }

    private func update(_ body: (inout State) -> Void) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            body(&state)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Up to `maximum` buffered items, waiting for the first; empty once closed, or finished and drained.
    func nextBatch(maximum: Int) async -> [any AcknowledgeableDelivery] {
        while true {
            enum Step { case batch([any AcknowledgeableDelivery]), wait }
            let step = state.withLock { state -> Step in
                if state.closed { return .batch([]) }
                let available = state.items.count - state.head
                if available > 0 {
                    let end = state.head + min(available, maximum)
                    let batch = Array(state.items[state.head..<end])
                    state.head = end
                    if state.head == state.items.count {
                        state.items.removeAll(keepingCapacity: true)
                        state.head = 0
                    } else if state.head >= 64 && state.head * 2 >= state.items.count {
                        // Under a steady backlog the buffer never runs empty: drop what was handed
                        // out, or the array would keep every delivery (and its body) since the
                        // last time it did.
                        state.items.removeSubrange(0..<state.head)
                        state.head = 0
                    }
                    return .batch(batch)
                }
                return state.finished ? .batch([]) : .wait
            }
            if case .batch(let batch) = step { return batch }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state -> Bool in
                        if state.closed || state.finished || state.items.count > state.head || Task.isCancelled {
                            return true
                        }
                        state.waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                self.close()
            }
        }
    }

    /// Items buffered and not handed out.
    var count: Int { state.withLock { $0.items.count - $0.head } }

    /// Items the buffer still references, handed out or not (for tests of its memory).
    var retainedCount: Int { state.withLock { $0.items.count } }
}
