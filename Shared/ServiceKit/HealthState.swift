import Synchronization

/// What `/readyz` reports: each component (the broker connection, each consumer) says
/// whether it is ready, and why not.
public final class HealthState: Sendable {
    public struct Component: Sendable, Hashable, Codable {
        public var name: String
        public var ready: Bool
        public var detail: String?
    }

    private let components = Mutex<[String: Component]>([:])
    private let checks = Mutex<[String: @Sendable () -> Component]>([:])

    public init() {}

    /// Records a component's state (`ready == false` until said otherwise).
    public func set(_ name: String, ready: Bool, detail: String? = nil) {
        components.withLock { $0[name] = Component(name: name, ready: ready, detail: detail) }
    }

    /// Adds a check evaluated at every `/readyz` request (e.g. `connection.isConnected`).
    public func addCheck(_ name: String, _ check: @escaping @Sendable () -> (ready: Bool, detail: String?)) {
        checks.withLock {
            $0[name] = {
                let (ready, detail) = check()
                return Component(name: name, ready: ready, detail: detail)
            }
        }
    }

    /// Every component, sorted by name.
    public func snapshot() -> [Component] {
        var all = components.withLock { $0 }
        let dynamic = checks.withLock { $0 }
        for (name, check) in dynamic { all[name] = check() }
        return all.values.sorted { $0.name < $1.name }
    }

    /// Ready when there is at least one component and all are ready.
    public var isReady: Bool {
        let all = snapshot()
        return !all.isEmpty && all.allSatisfy(\.ready)
    }
}
