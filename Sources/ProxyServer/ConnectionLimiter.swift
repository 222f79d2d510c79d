import Synchronization

/// Counts open client connections across all event loops for `max_connections`.
final class ConnectionLimiter: Sendable {
    private let open = Atomic<Int>(0)
    private let currentLimit: Atomic<Int>

    init(limit: Int) {
        self.currentLimit = Atomic(limit)
    }

    /// `max_connections`; a reload may change it (connections already open stay open).
    var limit: Int {
        get { currentLimit.load(ordering: .relaxed) }
        set { currentLimit.store(newValue, ordering: .relaxed) }
    }

    /// Takes a slot, or returns false when `max_connections` are already open.
    func acquire() -> Bool {
        let now = open.wrappingAdd(1, ordering: .relaxed).newValue
        if now > limit {
            open.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func release() {
        open.wrappingSubtract(1, ordering: .relaxed)
    }

    var current: Int { open.load(ordering: .relaxed) }
}
