import Foundation
import Importer
import Migrations
import Postgres
import ShopifySimulator
import TestSupport
import Testing

@Suite("Fleet rules without I/O")
struct FleetScheduleTests {
    @Test("schedule intervals as people write them")
    func durations() throws {
        #expect(try FleetSchedule.parseDuration("15m") == 900)
        #expect(try FleetSchedule.parseDuration("1d") == 86400)
        #expect(try FleetSchedule.parseDuration("1h30m") == 5400)
        #expect(try FleetSchedule.parseDuration("90s") == 90)
        #expect(try FleetSchedule.parseDuration("off") == nil)
        for bad in ["", "15", "m", "15x", "0s", "-5m", "2y", "1d2"] {
            #expect(throws: ShopError.self, "\(bad)") { try FleetSchedule.parseDuration(bad) }
        }
        #expect(FleetSchedule.format(seconds: 5400) == "1h30m")
        #expect(FleetSchedule.format(seconds: 86400) == "1d")
    }

    @Test("a failing shop backs off, doubling, capped")
    func backoff() {
        #expect(FleetSchedule.backoff(failures: 0, base: 60, cap: 3600) == 0)
        #expect(FleetSchedule.backoff(failures: 1, base: 60, cap: 3600) == 60)
        #expect(FleetSchedule.backoff(failures: 3, base: 60, cap: 3600) == 240)
        #expect(FleetSchedule.backoff(failures: 40, base: 60, cap: 3600) == 3600)
    }

    @Test("a claimed shop gets its full import first, then a due reconcile, else a delta")
    func mode() {
        #expect(FleetSchedule.mode(fullImportDone: false, reconcileDue: true) == .full)
        #expect(FleetSchedule.mode(fullImportDone: true, reconcileDue: true) == .reconcile)
        #expect(FleetSchedule.mode(fullImportDone: true, reconcileDue: false) == .delta)
    }

    @Test("connections: jobs × (operations + 1) + 1; the default fits the room")
    func budget() throws {
        #expect(ConnectionBudget(operations: 5, jobs: 1).total == 7)
        #expect(ConnectionBudget(operations: 5, jobs: 4).total == 25)
        #expect(ConnectionBudget.defaultJobs(operations: 5, room: 97) == 4)
        #expect(ConnectionBudget.defaultJobs(operations: 5, room: 20) == 2)
        #expect(ConnectionBudget.defaultJobs(operations: 5, room: 3) == 1)
        #expect(throws: ShopError.self) { try ConnectionBudget(operations: 5, jobs: 20).check(room: 90) }
        try ConnectionBudget(operations: 5, jobs: 4).check(room: 90)
    }
}

/// Shops of a simulator fleet registered in a test database of the shared test cluster.
final class ShopsRig: @unchecked Sendable {
    let db: TestDatabase
    let connection: PostgresConnection
    let sims: SimulatorFleet
    let tokenVariable = "SHOPBULK_SHOPS_TEST_TOKEN"
    var names: [String] = []

    init(shops: Int, customers: Int = 20, orders: Int = 80, brokenShop: Bool = false, function: String = #function) async throws {
        db = try TestDatabase(function: function)
        connection = try db.connect()
        try Migrator(directory: TestEnvironment.packageRoot + "/migrations").apply(on: connection)
        sims = try await SimulatorFleet.start(
            (0..<shops).map { i in
                var c = SimulatorConfig(seed: UInt64(900 + i), customers: customers, orders: orders)
                c.shopName = "shop\(i)"
                return c
            })
        let store = ShopStore(connection: connection)
        for (i, sim) in sims.shops.enumerated() {
            let name = "shop\(i)"
            // The broken shop's token variable is never set: its imports fail before any request.
            let ref = brokenShop && i == shops - 1 ? "env:SHOPBULK_UNSET_TOKEN_VARIABLE" : "env:\(tokenVariable)"
            _ = try store.add(Shop(name: name, storeDomain: sim.shopDomain, authMethod: .token, tokenRef: ref, apiBase: sim.baseURL))
            names.append(name)
        }
    }

    func run(_ arguments: [String], failpoint: String? = nil) throws -> ImportProcess {
        try ImportProcess(
            arguments: arguments + ["--database-url", db.url, "--migrations-dir", TestEnvironment.packageRoot + "/migrations"]
                + (["import", "worker"].contains(arguments[0]) ? ["--queries-dir", TestEnvironment.packageRoot + "/queries"] : []),
            environment: [tokenVariable: sims.shops[0].legacyToken ?? ""], failpoint: failpoint)
    }

    func count(_ sql: String, _ parameters: [any PostgresBindable] = []) throws -> Int {
        try connection.query(sql, parameters).first?[0].int ?? -1
    }

    func stop() async {
        await sims.stop()
        connection.close()
    }
}

@Suite("Many shops: import --all --jobs, worker schedules, status", .serialized, .enabled(if: TestEnvironment.databaseTestsEnabled))
struct FleetCommandTests {
    @Test(
        "import --all --jobs 3: three shops at once within 3 × (2 + 1) + 1 sessions; a failing shop does not stop the others; exit code = shops failed"
    )
    func concurrentShops() async throws {
        let rig = try await ShopsRig(shops: 5, brokenShop: true)
        do {
            let ownPID = Int32(try rig.count("SELECT pg_backend_pid()"))
            let sampler = try SessionSampler(url: rig.db.url, excluding: [ownPID]) { role in
                // "shopbulk import shop2" and "shopbulk import shop2 worker 1": the shop.
                guard role.hasPrefix("shopbulk import ") else { return nil }
                return role.dropFirst("shopbulk import ".count).split(separator: " ").first.map(String.init)
            }
            let started = ContinuousClock.now
            let full = try rig.run([
                "import", "--all", "--full", "--jobs", "3", "--concurrency", "2", "--window-days", "180", "--log-level", "error",
            ])
            let outcome = await full.wait()
            let took = ContinuousClock.now - started
            let seen = sampler.stop()
            let shopsAtOnce = sampler.groupsAtOnce
            #expect(!outcome.signaled && outcome.status == 1, "exit \(outcome): \(full.stderr)")
            #expect(full.stderr.contains("1 of 5 shops failed"), "\(full.stderr)")
            #expect(full.stderr.contains("shop4"))
            // The four others were imported in full.
            #expect(try rig.count("SELECT count(*) FROM sync_state WHERE full_import_done_at IS NOT NULL") == 8)
            #expect(seen.samples > 20)
            #expect(shopsAtOnce == 3, "shops at once: \(shopsAtOnce) (\(seen.roles.sorted()))")
            #expect(seen.peak <= 3 * (2 + 1) + 1, "peak \(seen.peak) sessions: \(seen.roles.sorted())")
            print(
                "import --all --jobs 3: \(shopsAtOnce) shops at once, peak \(seen.peak) sessions (bound 3 × (2 + 1) + 1 = 10), exit \(outcome.status), \(took)"
            )

            let delta = try rig.run(["import", "--all", "--delta", "--jobs", "3", "--concurrency", "2", "--log-level", "error"])
            let deltaOutcome = await delta.wait()
            #expect(deltaOutcome.status == 1 && delta.stderr.contains("1 of 5 shops failed"), "\(delta.stderr)")
            #expect(
                try rig.count("SELECT count(*) FROM sync_runs WHERE kind = 'delta' AND parent_run_id IS NULL AND status = 'loaded'") == 8)

            let tooMany = try rig.run(["import", "--all", "--delta", "--jobs", "60", "--log-level", "error"])
            let refused = await tooMany.wait()
            #expect(refused.status == 1 && tooMany.stderr.contains("PostgreSQL connections"), "\(tooMany.stderr)")
        } catch {
            await rig.stop()
            throw error
        }
        await rig.stop()
    }

    @Test(
        "worker: status shows the holder; SIGTERM parks the import (exit 0) and the next worker resumes it; a failing shop backs off with its error in status"
    )
    func workerLifecycle() async throws {
        let rig = try await ShopsRig(shops: 2, brokenShop: true)
        do {
            let edit = try rig.run(["shop", "edit", "shop0", "--delta-every", "15m", "--reconcile-every", "1d"])
            #expect(await edit.wait().status == 0, "\(edit.stderr)")
            #expect(
                try rig.count(
                    "SELECT count(*) FROM shop_schedules WHERE delta_every = interval '15 minutes' AND reconcile_every = interval '1 day' AND next_delta_at <= now()"
                ) == 1)
            let bad = try rig.run(["shop", "edit", "shop0", "--delta-every", "15x"])
            #expect(await bad.wait().status == 2 && bad.stderr.contains("not a schedule interval"), "\(bad.stderr)")
            try FleetStore(connection: rig.connection).setSchedule(
                shopID: try #require(try rig.connection.query("SELECT id FROM shops WHERE name = 'shop1'").first?[0].int64),
                delta: .every(seconds: 60), reconcile: .unchanged)

            let arguments = [
                "worker", "--jobs", "2", "--concurrency", "2", "--window-days", "400", "--poll-interval", "0.05", "--max-poll-interval",
                "0.2",
                "--backoff", "1s", "--max-backoff", "4s", "--idle-wait", "1s", "--log-level", "info",
            ]
            let first = try rig.run(arguments, failpoint: "poll:pause")
            let paused = await first.waitForLine(containing: "failpoint poll paused", seconds: 60)
            #expect(paused, "\(first.stderr)")
            guard paused else {
                kill(first.process.processIdentifier, SIGKILL)
                _ = await first.wait()
                await rig.stop()
                return
            }
            let statusText = try runStatus(rig, "shop0")
            #expect(
                statusText.contains("Held by: worker \(ProcessInfo.processInfo.hostName):\(first.process.processIdentifier)"),
                "\(statusText)")
            #expect(statusText.contains("delta every 15m, reconcile every 1d"), "\(statusText)")

            // SIGTERM while the import polls: it stops cleanly, the claim is recorded as interrupted.
            kill(first.process.processIdentifier, SIGTERM)
            first.release()
            let end = await first.wait()
            #expect(!end.signaled && end.status == 0, "exit \(end): \(first.stderr)")
            #expect(try rig.count("SELECT count(*) FROM fleet_claims WHERE outcome = 'interrupted'") >= 1, "\(first.stderr)")
            #expect(try rig.count("SELECT count(*) FROM fleet_claims WHERE ended_at IS NULL") == 0)
            #expect(try rig.count("SELECT count(*) FROM sync_runs WHERE status IN ('failed', 'canceled')") == 0)

            // The next worker resumes shop0's import; shop1 keeps failing and backs off.
            let second = try rig.run(arguments)
            let shop0 = try #require(try rig.connection.query("SELECT id FROM shops WHERE name = 'shop0'").first?[0].int64)
            let deadline = ContinuousClock.now + .seconds(90)
            while ContinuousClock.now < deadline {
                let done = try rig.count(
                    "SELECT count(*) FROM fleet_claims WHERE shop_id = $1 AND outcome = 'ok' AND mode = 'full'", [shop0])
                let failures = try rig.count("SELECT coalesce(max(consecutive_failures), 0) FROM shop_schedules")
                if done == 1 && failures >= 2 { break }
                try await Task.sleep(for: .milliseconds(100))  // polling a condition with a deadline
            }
            #expect(
                try rig.count("SELECT count(*) FROM fleet_claims WHERE shop_id = $1 AND outcome = 'ok' AND mode = 'full'", [shop0]) == 1)
            #expect(try rig.count("SELECT count(*) FROM sync_state WHERE shop_id = $1 AND full_import_done_at IS NOT NULL", [shop0]) == 2)
            #expect(
                try rig.count("SELECT count(*) FROM shop_schedules WHERE consecutive_failures >= 2 AND backoff_until > last_finished_at")
                    == 1)
            let failing = try runStatus(rig, "shop1")
            #expect(failing.contains("in a row; backing off until"), "\(failing)")
            #expect(failing.contains("SHOPBULK_UNSET_TOKEN_VARIABLE"), "\(failing)")
            kill(second.process.processIdentifier, SIGTERM)
            #expect(await second.wait().status == 0, "\(second.stderr)")
            let after = try runStatus(rig, "shop0")
            #expect(after.contains("Held by: nobody") && after.contains("Last: full ok"), "\(after)")
            #expect(after.contains("next due in"), "\(after)")
        } catch {
            await rig.stop()
            throw error
        }
        await rig.stop()
    }

    /// `shopbulk status NAME`'s stdout.
    func runStatus(_ rig: ShopsRig, _ shop: String) throws -> String {
        let r = try runProcess(
            TestEnvironment.shopbulkBinary,
            ["status", shop, "--database-url", rig.db.url, "--migrations-dir", TestEnvironment.packageRoot + "/migrations"])
        return r.stdout
    }
}
