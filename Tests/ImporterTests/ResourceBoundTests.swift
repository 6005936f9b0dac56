import Blocking
import Foundation
import Importer
import Postgres
import ShopifySimulator
import TestSupport
import Testing

/// Watches `pg_stat_activity` of one database from a connection of its own and keeps the most
/// sessions of shopbulk's import it saw at once.
final class SessionSampler: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private(set) var peak = 0
    private(set) var samples = 0
    private var roles: Set<String> = []
    private var thread: Thread?
    private let done = DispatchSemaphore(value: 0)

    /// Counts every backend of the database but the sampler's own and `excluding` (the test's), named
    /// or not: a leaked raw connection has no application_name.
    /// The most groups (`group` of an application_name, e.g. its shop) seen at once.
    private(set) var peakGroups = 0

    init(url: String, excluding: [Int32], group: @escaping @Sendable (String) -> String? = { _ in nil }) throws {
        let box = ConnectionBox(try PostgresConnection(url))
        let thread = Thread { [self] in
            let connection = box.connection
            while !isStopped {
                if let rows = try? connection.query(
                    """
                    SELECT coalesce(nullif(application_name, ''), 'unnamed') FROM pg_stat_activity
                    WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()
                      AND NOT pid = ANY($1::int[])
                    """, [excluding.map(String.init)])
                {
                    lock.lock()
                    peak = max(peak, rows.rows.count)
                    samples += 1
                    for row in rows.rows { roles.insert(row[0].string ?? "") }
                    peakGroups = max(peakGroups, Set(rows.rows.compactMap { group($0[0].string ?? "") }).count)
                    lock.unlock()
                }
                usleep(5_000)  // sampling rate, not synchronisation
            }
            connection.close()
            done.signal()
        }
        self.thread = thread
        thread.start()
    }

    private var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    /// Stops sampling and waits for the sampler's last query.
    func stop() -> (peak: Int, samples: Int, roles: Set<String>) {
        lock.lock()
        stopped = true
        lock.unlock()
        done.wait()
        lock.lock()
        defer { lock.unlock() }
        return (peak, samples, roles)
    }

    /// The most groups seen at once (after `stop()`).
    var groupsAtOnce: Int {
        lock.lock()
        defer { lock.unlock() }
        return peakGroups
    }
}

struct ConnectionBox: @unchecked Sendable {
    let connection: PostgresConnection
    init(_ connection: PostgresConnection) { self.connection = connection }
}

@Suite("Resources stay bounded over hundreds of windows", .serialized, .enabled(if: TestEnvironment.databaseTestsEnabled))
struct ResourceBoundTests {
    @Test("the test cluster runs with PostgreSQL's default max_connections (no room made for leaks)")
    func defaultMaxConnections() throws {
        let db = try TestDatabase()
        let connection = try db.connect()
        let value = try #require(try connection.query("SHOW max_connections").first?[0].string)
        #expect(Int(value)! <= 100, "max_connections = \(value)")
    }

    @Test("a full import of over 300 windows holds at most concurrency + 2 sessions; all are closed afterwards")
    func connectionBound() async throws {
        let h = try await EngineHarness.make(customers: 60, orders: 400)
        do {
            let harnessPID = Int32(try h.count("SELECT pg_backend_pid()"))
            let sampler = try SessionSampler(url: h.db.url, excluding: [harnessPID])
            let threadsBefore = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count
            var options = EngineHarness.fastOptions
            options.windowDays = 10
            options.concurrency = 5
            let report = try await h.full(options)
            let seen = sampler.stop()
            let threadsAfter = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count

            // The situation arose: hundreds of windows, several at once.
            let windows = try h.count("SELECT count(*) FROM sync_runs WHERE parent_run_id IS NOT NULL")
            #expect(windows >= 300, "only \(windows) windows")
            #expect(report.windowsLoaded == windows)
            #expect(seen.samples > 50, "the sampler ran \(seen.samples) times")
            #expect(seen.peak >= 3, "never more than \(seen.peak) sessions at once: the workers did not overlap")
            #expect(seen.roles.contains { $0.contains("worker 5") }, "five workers ran: \(seen.roles)")
            // The bound: the engine holds at most concurrency + 1 sessions (the CLI's own connection
            // makes the + 2), counting every backend of the database, named or not.
            #expect(seen.peak <= 5 + 1, "peak \(seen.peak) sessions: \(seen.roles)")
            #expect(!seen.roles.contains("unnamed"), "an unnamed session: \(seen.roles)")
            let gauge = h.engine.connections.snapshot
            #expect(gauge.peak <= 5 + 1 && gauge.open == 0, "gauge \(gauge)")
            // Closed, not idle: nothing of the import is left on the server but the harness's session.
            #expect(
                try h.count(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
                ) == 0)
            // Threads: the blocking pool is fixed; nothing grows per window.
            #expect(BlockingPool.shared.threadCount <= BlockingPool.shared.maximumThreads)
            #expect(threadsAfter <= threadsBefore + BlockingPool.shared.maximumThreads, "threads \(threadsBefore) → \(threadsAfter)")
            // Every window's rows_loaded is what it loaded: the windows add up to the tables.
            let rows = try h.count(
                "SELECT (SELECT count(*) FROM customers) + (SELECT count(*) FROM orders) + (SELECT count(*) FROM order_lines)")
            #expect(rows > 1000)
            #expect(
                try h.count(
                    "SELECT sum(rows_loaded)::int FROM sync_runs WHERE parent_run_id IS NOT NULL AND status IN ('loaded', 'partial', 'empty')"
                )
                    == rows)
            #expect(try h.count("SELECT sum(rows_loaded)::int FROM sync_runs WHERE parent_run_id IS NULL") == rows)
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }
}
