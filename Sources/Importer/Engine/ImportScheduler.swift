import Foundation

/// A queue of window run ids shared by an import's workers; it ends when it is empty and nothing is
/// in flight, or at once when a worker fails or the import is cancelled.
actor WorkQueue {
    private var items: [Int64]
    private var inFlight = 0
    private var waiters: [CheckedContinuation<Int64?, Never>] = []
    private var stopped = false

    init(_ items: [Int64]) { self.items = items }

    /// Ends the queue after a worker's error or a cancellation: waiting workers get nil.
    func stop() {
        stopped = true
        items.removeAll()
        for waiter in waiters { waiter.resume(returning: nil) }
        waiters.removeAll()
    }

    /// The next run, waiting while others are in flight (they may add successors); nil at the end.
    func next() async -> Int64? {
        if stopped || Task.isCancelled { return nil }
        if !items.isEmpty {
            inFlight += 1
            return items.removeFirst()
        }
        if inFlight == 0 { return nil }
        return await withCheckedContinuation { waiters.append($0) }
    }

    /// A successor of a run in flight (a half of a split window, a retry).
    func add(_ id: Int64) {
        if stopped { return }
        if !waiters.isEmpty {
            inFlight += 1
            waiters.removeFirst().resume(returning: id)
        } else {
            items.append(id)
        }
    }

    /// A run taken with `next` is finished (its successors were added first).
    func done() {
        inFlight -= 1
        if inFlight == 0 && items.isEmpty {
            for waiter in waiters { waiter.resume(returning: nil) }
            waiters.removeAll()
        }
    }
}

/// Lets one task at a time through: an import's loads share two cores and one PostgreSQL.
actor AsyncGate {
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func enter() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func leave() {
        if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() }
    }

    /// Runs `body` holding the gate, and leaves it however `body` ends.
    func with<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await enter()
        do {
            let value = try await body()
            leave()
            return value
        } catch {
            leave()
            throw error
        }
    }
}

/// Counters shared by an import's workers.
actor Tally {
    struct Counts: Sendable {
        var submitted = 0
        var loaded = 0
        var split = 0
        var retries = 0
        var rejected = 0
        var bytes: Int64 = 0
        var rows: [String: Int] = [:]
    }
    private var counts = Counts()
    func add(_ change: @Sendable (inout Counts) -> Void) { change(&counts) }
    func snapshot() -> Counts { counts }
}
