import Foundation
import Importer
import Postgres
import ShopifySimulator
import TestSupport
import Testing

/// Races `work` against a deadline; true when it finished (threw or returned) in time.
private func finishes(within seconds: Double, _ work: @escaping @Sendable () async throws -> Void) async -> Bool {
    let done = LockedFlag()
    Task {
        do { try await work() } catch {}
        done.set()
    }
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if done.value { return true }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return done.value
}

private final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    var value: Bool { lock.lock(); defer { lock.unlock() }; return flag }
    func set() { lock.lock(); flag = true; lock.unlock() }
}

@Suite("Engine regressions found in review", .enabled(if: TestEnvironment.databaseTestsEnabled))
struct ReviewRegressionTests {
    /// One window, five workers: the failing worker never calls queue.done(), the four idle workers
    /// sit in WorkQueue.next()'s continuation forever and the task group never returns.
    @Test("a load error with idle workers ends the import instead of hanging")
    func loadErrorDoesNotHang() async throws {
        let h = try await EngineHarness.make { c in
            c.faults = SimulatorFaults(operations: [OperationFault(operation: 1, kind: .corruptLine, line: 2)])
        }
        defer { Task { await h.stop() } }
        var options = EngineHarness.fastOptions
        options.windowDays = 100_000
        options.resources = ["customers"]
        options.concurrency = 5
        let opts = options
        let ended = await finishes(within: 20) { _ = try await h.full(opts) }
        #expect(ended, "the import hung after a load error (WorkQueue waiters never resumed)")
    }

    /// A run with --max-rejects that rejected a line ends 'partial'; the full import's completion
    /// check only accepts loaded/empty/superseded/retried, and RunRecord.open never reopens 'partial'.
    @Test("a full import whose window loaded as partial completes")
    func partialWindowCompletes() async throws {
        let h = try await EngineHarness.make { c in
            c.faults = SimulatorFaults(operations: [OperationFault(operation: 1, kind: .corruptLine, line: 2)])
        }
        defer { Task { await h.stop() } }
        var options = EngineHarness.fastOptions
        options.windowDays = 100_000
        options.resources = ["customers"]
        options.maxRejects = 1
        var firstError: String?
        do { _ = try await h.full(options) } catch { firstError = "\(error)" }
        var secondError: String?
        do { _ = try await h.full(options) } catch { secondError = "\(error)" }
        #expect(firstError == nil, "first run: \(firstError ?? "")")
        #expect(secondError == nil, "rerun: \(secondError ?? "")")
        #expect(try h.count("SELECT count(*) FROM sync_state WHERE full_import_done_at IS NOT NULL") == 1)
    }

    /// Window A fails with INTERNAL_SERVER_ERROR and sleeps its backoff *after* being marked
    /// 'retried' and *before* its successor is created; window B's load error cancels the group,
    /// so A's successor is never created and A's window disappears from the plan.
    @Test("a retry interrupted during its backoff does not lose the window")
    func retryInterruptedKeepsWindow() async throws {
        let h = try await EngineHarness.make { c in
            c.speed = .duration(1.5)
            c.faults = SimulatorFaults(operations: [
                OperationFault(operation: 1, kind: .internalServerError, afterObjects: 1),
                OperationFault(operation: 2, kind: .internalServerError, afterObjects: 1),
            ])
        }
        defer { Task { await h.stop() } }
        let iso = ISO8601DateFormatter()
        let created = h.sim.shop.orders.compactMap { iso.date(from: $0.createdAt) }.sorted()
        var options = EngineHarness.fastOptions
        options.resources = ["orders"]
        options.concurrency = 2
        options.since = created.first!.addingTimeInterval(-1)
        options.windowDays = created[created.count / 2].timeIntervalSince(options.since!) / 86_400
        options.retryBackoff = .seconds(8)
        // Kill the import while both windows sleep in their backoff (a Ctrl-C / kill -9 / a sibling's error).
        let opts = options
        let task = Task { try await h.full(opts) }
        try await Task.sleep(for: .seconds(3))
        task.cancel()
        _ = try? await task.value
        let successors = try h.count(
            "SELECT count(*) FROM sync_runs WHERE parent_run_id IS NOT NULL AND status IN ('planned','submitting','submitted','running','completed','downloading')"
        )
        let retried = try h.count("SELECT count(*) FROM sync_runs WHERE status = 'retried'")
        #expect(retried == 0 || successors == retried, "\(retried) windows marked retried but only \(successors) open successors")
        // The rerun then "completes" with a hole.
        options.retryBackoff = .milliseconds(50)
        var rerunError = "none"
        do { _ = try await h.full(options) } catch { rerunError = "\(error)" }
        let done = try h.count("SELECT count(*) FROM sync_state WHERE resource = 'orders' AND full_import_done_at IS NOT NULL")
        #expect(
            try h.count("SELECT count(*) FROM orders") == h.sim.shop.liveOrderCount,
            "rerun error: \(rerunError); full_import_done rows: \(done)")
    }
}
