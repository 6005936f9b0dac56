import Foundation
import Importer
import Postgres
import ShopifyAdmin
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
        do {
            var options = EngineHarness.fastOptions
            options.windowDays = 100_000
            options.resources = ["customers"]
            options.concurrency = 5
            let opts = options
            let ended = await finishes(within: 20) { _ = try await h.full(opts) }
            #expect(ended, "the import hung after a load error (WorkQueue waiters never resumed)")
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }

    /// A run with --max-rejects that rejected a line ends 'partial'; the full import's completion
    /// check only accepts loaded/empty/superseded/retried, and RunRecord.open never reopens 'partial'.
    @Test("a full import whose window loaded as partial completes")
    func partialWindowCompletes() async throws {
        let h = try await EngineHarness.make { c in
            c.faults = SimulatorFaults(operations: [OperationFault(operation: 1, kind: .corruptLine, line: 2)])
        }
        do {
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
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
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
        do {
            let iso = ISO8601DateFormatter()
            let created = h.sim.shop.orders.compactMap { iso.date(from: $0.createdAt) }.sorted()
            var options = EngineHarness.fastOptions
            options.resources = ["orders"]
            options.concurrency = 2
            options.since = created.first!.addingTimeInterval(-1)
            options.windowDays = created[created.count / 2].timeIntervalSince(options.since!) / 86_400
            options.retryBackoff = .seconds(8)
            // Cancel the import while both windows sleep in their backoff (a Ctrl-C / a sibling's error).
            let opts = options
            let task = Task { try await h.full(opts) }
            #expect(await h.engine.progress.waitUntil { entries in entries.filter { $0.status == "backoff" }.count >= 2 })
            task.cancel()
            _ = try? await task.value
            let open = try h.count(
                "SELECT count(*) FROM sync_runs WHERE parent_run_id IS NOT NULL AND status IN ('planned','submitting','submitted','running','completed','downloading')"
            )
            let retried = try h.count("SELECT count(*) FROM sync_runs WHERE status = 'retried'")
            let finished = try h.count(
                "SELECT count(*) FROM sync_runs WHERE parent_run_id IS NOT NULL AND status IN ('loaded', 'empty', 'partial')")
            let windows = try h.count("SELECT count(*) FROM sync_runs WHERE parent_run_id IS NOT NULL")
            // Both failed windows still stand for themselves (no successor was due yet), and every window
            // is either done or open: the rerun picks them up.
            #expect(
                retried == 0 && open >= 2 && open + finished == windows, "\(retried) retried, \(open) open, \(finished) done of \(windows)")
            // The rerun then "completes" with a hole.
            options.retryBackoff = .milliseconds(50)
            var rerunError = "none"
            do { _ = try await h.full(options) } catch { rerunError = "\(error)" }
            let done = try h.count("SELECT count(*) FROM sync_state WHERE resource = 'orders' AND full_import_done_at IS NOT NULL")
            #expect(
                try h.count("SELECT count(*) FROM orders") == h.sim.shop.liveOrderCount,
                "rerun error: \(rerunError); full_import_done rows: \(done)")
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }
}

@Suite("Engine regressions found in the second review", .serialized, .enabled(if: TestEnvironment.databaseTestsEnabled))
struct SecondReviewRegressionTests {
    @Test("a window that timed out and is too short to split fails at once with TIMEOUT (not retried)")
    func timeoutTooShortFailsAtOnce() async throws {
        let faults = (1...12).map { OperationFault(operation: $0, kind: .timeout) }
        let h = try await EngineHarness.make { c in c.faults = SimulatorFaults(operations: faults) }
        do {
            var options = EngineHarness.fastOptions
            options.resources = ["orders"]
            // One window of the last 30 minutes, with orders in it: halves of 15 minutes are too short
            // to split again.
            h.sim.add(orders: 5)
            options.windowDays = 1
            options.since = Date().addingTimeInterval(-1800)
            let error = await #expect(throws: ShopifyError.self) { _ = try await h.full(options) }
            #expect(error?.shopifyCode == "TIMEOUT")
            let failed = try h.text("SELECT error_message FROM sync_runs WHERE status = 'failed' AND error_code = 'TIMEOUT' LIMIT 1")
            #expect(failed?.contains("too short to split") == true, "\(failed ?? "no failed run")")
            // Split while it could be, never retried: no run is 'retried', and the same text was never resubmitted.
            #expect(try h.count("SELECT count(*) FROM sync_runs WHERE status = 'retried'") == 0)
            #expect(try h.count("SELECT count(*) FROM sync_runs WHERE status = 'superseded'") >= 1)
            let texts = h.sim.operations.map(\.query)
            #expect(!texts.isEmpty && Set(texts).count == texts.count)
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }

    @Test("an open import whose window end cannot be read stops with an error instead of guessing now")
    func unreadableWindowEndFails() async throws {
        let h = try await EngineHarness.make()
        do {
            try h.connection.execute(
                """
                INSERT INTO sync_runs (shop_id, kind, resource, query_name, query_hash, window_field, status)
                VALUES (\(h.shop.id), 'full', 'customers', 'customers', 'x', 'created_at', 'running')
                """)
            var options = EngineHarness.fastOptions
            options.resources = ["customers"]
            let error = await #expect(throws: ShopError.self) { _ = try await h.full(options) }
            #expect(error?.message.contains("has no readable window end") == true, "\(String(describing: error))")
            // Nothing moved: no high-water mark was written.
            #expect(try h.count("SELECT count(*) FROM sync_state") == 0)
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }

    @Test("the control session (and with it the shop lock) lost mid-import stops the import loudly")
    func lostLockStopsImport() async throws {
        let h = try await EngineHarness.make(customers: 60, orders: 200) { c in c.speed = .duration(0.4) }
        do {
            var options = EngineHarness.fastOptions
            options.windowDays = 30
            let opts = options
            let task = Task { try await h.full(opts) }
            #expect(await h.engine.progress.waitUntil { $0.filter { $0.status == "loaded" || $0.status == "empty" }.count >= 2 })
            let killed = try h.count(
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'shopbulk import sim') k"
            )
            #expect(killed == 1, "the control session was not found")
            var failure: (any Error)?
            do { _ = try await task.value } catch { failure = error }
            #expect(failure != nil, "the import went on without its lock")
            // Everything it left is resumable: a rerun completes the import.
            _ = try await h.full(options)
            #expect(try h.count("SELECT count(*) FROM orders") == h.sim.shop.liveOrderCount)
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }

}
