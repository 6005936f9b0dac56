import Foundation
import Importer
import Postgres
import ShopifySimulator
import TestSupport
import Testing

@Suite("kill -9 during a full import, then a rerun", .enabled(if: TestEnvironment.databaseTestsEnabled))
struct CrashResumeTests {
    /// Starts `shopbulk import sim --full` as a process and kills it with SIGKILL after `delay` seconds
    /// (or lets it finish when `delay` is nil). Returns its exit status.
    static func importProcess(_ h: EngineHarness, killAfter delay: Double?) async throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestEnvironment.shopbulkBinary)
        process.arguments = [
            "import", "sim", "--full", "--window-days", "120", "--database-url", h.db.url,
            "--queries-dir", TestEnvironment.packageRoot + "/queries", "--migrations-dir", TestEnvironment.packageRoot + "/migrations",
            "--poll-interval", "0.05", "--max-poll-interval", "0.2", "--log-level", "error",
        ]
        var environment = ProcessInfo.processInfo.environment
        environment[h.tokenVariable] = h.sim.legacyToken
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        if let delay {
            try await Task.sleep(for: .milliseconds(Int(delay * 1000)))
            kill(process.processIdentifier, SIGKILL)
        }
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        return process.terminationStatus
    }

    @Test("random kills while polling, downloading and loading; the rerun gives the same tables and submits nothing twice")
    func killAndResume() async throws {
        // Slow operations and large enough results that kills land in every phase.
        let h = try await EngineHarness.make(customers: 300, orders: 3000) { c in
            c.speed = .rowsPerSecond(6000)
            c.faults = SimulatorFaults(downloadDrops: [DownloadDrop(afterBytes: 200_000, count: 2)])
        }
        defer { Task { await h.stop() } }
        var generator = SystemRandomNumberGenerator()
        var kills = 0
        for _ in 0..<5 {
            let delay = Double.random(in: 0.3...1.6, using: &generator)
            let status = try await Self.importProcess(h, killAfter: delay)
            if status != 0 { kills += 1 }
            if try h.count("SELECT count(*) FROM sync_state WHERE full_import_done_at IS NOT NULL") == 2 { break }
        }
        if try h.count("SELECT count(*) FROM sync_state WHERE full_import_done_at IS NOT NULL") < 2 {
            // The rerun that finishes the interrupted import.
            #expect(try await Self.importProcess(h, killAfter: nil) == 0)
        }
        #expect(try h.count("SELECT count(*) FROM sync_runs WHERE parent_run_id IS NULL AND kind = 'full'") == 2)

        // The same tables as an uninterrupted import of the same shop into a fresh database.
        let clean = try await EngineHarness.make(customers: 300, orders: 3000)
        defer { Task { await clean.stop() } }
        _ = try await clean.full()
        for table in ["customers", "orders", "order_lines"] {
            let a = try h.dump(table)
            let b = try clean.dump(table)
            #expect(a.count == b.count, "\(table) row count")
            #expect(a == b, "\(table) rows")
        }
        // Nothing was submitted twice: every operation's query (which names its window) is unique.
        let queries = h.sim.operations.filter { !$0.foreign }.map(\.query)
        #expect(Set(queries).count == queries.count)
        // Every window is loaded exactly once.
        #expect(
            try h.count(
                "SELECT count(*) FROM (SELECT window_start, resource FROM sync_runs WHERE status = 'loaded' AND parent_run_id IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1) d"
            ) == 0)
        #expect(kills >= 1)
    }
}
