import Foundation
import Logging
import Postgres

/// What a fleet worker does and how it waits.
public struct FleetWorkerOptions: Sendable {
    /// Shops imported at once by this worker.
    public var jobs = 1
    /// The knobs of each import (window size, operations at once, resources).
    public var importOptions = ImportOptions()
    /// Back-off of a shop that keeps failing: `base` seconds after the first failure, doubling, at most `cap`.
    public var backoffBase: Double = 60
    public var backoffCap: Double = 6 * 3600
    /// The longest a worker waits before it looks again when nothing is due (a notification from
    /// another worker or a schedule change wakes it earlier; so does the next due time).
    public var idleWait: Double = 30
    /// The pause before a slot reconnects after losing its database session.
    public var reconnectDelay: Double = 1
    /// Who the worker is, in `status` and in `fleet_claims`.
    public var host = ProcessInfo.processInfo.hostName
    public var pid = getpid()

    public init() {}
}

/// Counts of what a worker did, for its last words and for tests.
public final class FleetWorkerStats: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: Int] = [:]
    public init() {}
    func add(_ key: String) {
        lock.lock()
        counts[key, default: 0] += 1
        lock.unlock()
    }
    /// claims, ok, failed, interrupted, reconnects.
    public var snapshot: [String: Int] {
        lock.lock()
        defer { lock.unlock() }
        return counts
    }
}

/// `shopbulk worker`: claims the most overdue shop no other worker holds, imports it with the
/// engine, records the outcome and the next due time, and repeats until cancelled.
///
/// Coordination is PostgreSQL's alone: a claim is the shop's import lock (a session-level advisory
/// lock) taken with `pg_try_advisory_lock` on the slot's own session, which is also the import's
/// control session and holds the lock for the whole import. Another worker's attempt fails at once
/// and it tries the next shop; when a worker dies its sessions end and the server drops the lock, so
/// the next claim of the shop resumes its import from the ledger (the engine resumes open runs).
/// Each slot holds one session while it waits and at most `operations + 1` while it imports, so a
/// worker holds at most `ConnectionBudget(operations:jobs:).total` connections.
///
/// Waiting: each slot `LISTEN`s on `FleetStore.channel` and blocks in `poll(2)` on its socket until
/// a notification (a claim ended, a schedule changed), the next due time, or `idleWait`, whichever
/// comes first (in slices of half a second, so that cancellation is seen).
public final class FleetWorker: Sendable {
    let engine: ImportEngine
    let options: FleetWorkerOptions
    let logger: Logger
    public let stats = FleetWorkerStats()

    public init(engine: ImportEngine, options: FleetWorkerOptions, logger: Logger) {
        self.engine = engine
        self.options = options
        self.logger = logger
    }

    var identity: String { "\(options.host):\(options.pid)" }

    /// Runs the slots until the task is cancelled (SIGTERM): imports in flight stop as the engine
    /// stops on cancellation (runs left resumable), their claims are recorded as interrupted and
    /// their locks released.
    public func run() async {
        logger.notice("worker started", metadata: ["worker": "\(identity)", "jobs": "\(options.jobs)"])
        await withTaskGroup(of: Void.self) { group in
            for slot in 1...max(1, options.jobs) {
                group.addTask { await self.slot(slot) }
            }
        }
        logger.notice("worker stopped", metadata: ["worker": "\(identity)"])
    }

    func slot(_ n: Int) async {
        while !Task.isCancelled {
            do {
                try await engine.withSession("worker \(identity) slot \(n)") { session in
                    try await session.run { _ = try $0.execute("LISTEN \(FleetStore.channel)", name: "listen") }
                    while !Task.isCancelled {
                        switch try await claimAndRun(session) {
                        case .ran: continue
                        case .nothingDue: try await wait(session, busy: false)
                        case .allBusy: try await wait(session, busy: true)
                        }
                    }
                }
            } catch {
                if Task.isCancelled { break }
                stats.add("reconnects")
                logger.warning(
                    "worker slot lost its database session; reconnecting", metadata: ["slot": "\(n)", "error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(Int64(options.reconnectDelay * 1000)))
            }
        }
    }

    enum Turn { case ran, nothingDue, allBusy }

    /// Claims the most overdue shop whose lock is free and imports it.
    func claimAndRun(_ session: DatabaseSession) async throws -> Turn {
        let candidates = try await session.run { try FleetStore(connection: $0).due() }
        let (host, pid, resources) = (options.host, options.pid, options.importOptions.resources)
        for candidate in candidates {
            if Task.isCancelled { return .ran }
            let lock = ImportLock(shopID: candidate.shopID)
            guard try await session.run({ try lock.acquire(on: $0) }) else { continue }
            let claim: FleetStore.Claim?
            let shop: Shop
            do {
                claim = try await session.run {
                    try FleetStore(connection: $0).begin(shopID: candidate.shopID, host: host, pid: pid, resources: resources)
                }
                shop = try await session.run { try ShopStore(connection: $0).require(candidate.name) }
            } catch {
                try? await session.run { try lock.release(on: $0) }
                throw error
            }
            guard let claim else {
                try await session.run { try lock.release(on: $0) }
                continue
            }
            stats.add("claims")
            logger.info("claimed", metadata: ["shop": "\(shop.name)", "mode": "\(claim.mode.rawValue)", "claim": "\(claim.id)"])
            let started = ContinuousClock.now
            var outcome = FleetStore.Outcome.ok
            var message: String?
            do {
                _ = try await engine.run(shop: shop, mode: claim.mode, options: options.importOptions, control: session)
            } catch {
                outcome = Task.isCancelled || error is CancellationError ? .interrupted : .failed
                message = "\(error)"
            }
            stats.add(outcome.rawValue)
            logger.info(
                "import ended",
                metadata: [
                    "shop": "\(shop.name)", "mode": "\(claim.mode.rawValue)", "outcome": "\(outcome.rawValue)",
                    "seconds": "\(ContinuousClock.now - started)", "error": "\(message ?? "")",
                ])
            // Recorded even when the worker is being stopped: an unstructured task is not cancelled.
            let backoff = (options.backoffBase, options.backoffCap)
            let (finalOutcome, finalMessage) = (outcome, message)
            let recorded = Task {
                try await session.run { connection in
                    try FleetStore(connection: connection).finish(claim, outcome: finalOutcome, error: finalMessage, backoff: backoff)
                    try lock.release(on: connection)
                }
            }
            try await recorded.value
            return .ran
        }
        return candidates.isEmpty ? .nothingDue : .allBusy
    }

    /// Waits for a notification, the next due time or `idleWait`, whichever comes first.
    func wait(_ session: DatabaseSession, busy: Bool) async throws {
        var seconds = options.idleWait
        if !busy, let next = try await session.run({ try FleetStore(connection: $0).secondsUntilNextDue() }) {
            seconds = min(seconds, next)
        }
        let deadline = ContinuousClock.now + .milliseconds(Int64(max(0.01, seconds) * 1000))
        while !Task.isCancelled {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return }
            let slice = min(0.5, Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18)
            let notified = try await session.run { try $0.waitForNotifications(timeout: slice) }
            if !notified.isEmpty { return }
        }
    }
}
