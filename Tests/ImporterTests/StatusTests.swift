import Foundation
import Importer
import Postgres
import ServiceDesk
import TestSupport
import Testing

@Suite("shopbulk status against the real database", .enabled(if: TestEnvironment.databaseTestsEnabled))
struct StatusTests {
    @Test("runs, operations in flight, high-water marks and last errors")
    func library() throws {
        let h = try LoaderHarness()
        try h.load(
            [
                Lines.order(5001, updatedAt: "2025-06-01T08:00:00Z"), Lines.lineItem(9011, order: 5001),
                Lines.order(5002, updatedAt: "2025-06-02T08:00:00Z"),
            ].joined(separator: "\n"))
        let ledger = RunLedger(connection: try h.db.connect())
        let running = try ledger.create(
            .init(
                shopID: h.shop.id, kind: "full", resource: "orders", queryName: "orders", queryHash: "abc", windowField: "created_at",
                windowStart: "2025-01-01T00:00:00Z", windowEnd: "2025-02-01T00:00:00Z", status: .running))
        try ledger.record(running, .init(operationGID: "gid://shopify/BulkOperation/77", shopifyStatus: "RUNNING", objectCount: 1234))
        let failed = try ledger.create(
            .init(shopID: h.shop.id, kind: "delta", resource: "customers", queryName: "customers", queryHash: "def"))
        try ledger.fail(failed, code: "TIMEOUT", message: "the bulk operation timed out; the window is split and retried")

        let statuses = try ServiceDeskQueries(connection: h.connection).status(of: [h.shop], runLimit: 10)
        let s = try #require(statuses.first)
        #expect(s.shop == "test" && s.enabled && s.storeDomain == "test.myshopify.com")
        #expect(s.runs.map(\.id) == [failed, running, 1])
        let load = try #require(s.runs.last)
        #expect(load.kind == "load" && load.status == "loaded" && load.rowsLoaded == 3)
        #expect(load.ageSeconds >= 0)
        #expect(s.inFlight.map(\.id) == [running])
        let op = s.inFlight[0]
        #expect(op.windowField == "created_at" && op.windowStart == "2025-01-01T00:00:00Z" && op.windowEnd == "2025-02-01T00:00:00Z")
        #expect(op.operationGid == "gid://shopify/BulkOperation/77" && op.shopifyStatus == "RUNNING" && op.objectCount == 1234)
        #expect(s.highWaterMarks.map(\.resource) == ["orders"])
        #expect(s.highWaterMarks.first?.updatedAt == "2025-06-02T08:00:00Z")
        #expect(s.highWaterMarks.first?.id == 5002)
        #expect(s.lastErrors.map(\.id) == [failed])
        #expect(s.lastErrors.first?.errorCode == "TIMEOUT")

        let limited = try ServiceDeskQueries(connection: h.connection).status(of: [h.shop], runLimit: 1)
        #expect(limited.first?.runs.map(\.id) == [failed])
        #expect(limited.first?.inFlight.count == 1)
    }

    @Test("shopbulk status after shopbulk load: table and --json")
    func command() async throws {
        let db = try TestDatabase()
        let cli = ShopbulkCLI(db: db)
        let add = try await cli.run(["shop", "add", "halo", "--store", "halo", "--token-env", "HALO_TOKEN", "--no-verify"])
        #expect(add.status == 0, "\(add.stderr)")

        let empty = try await cli.run(["status", "halo"])
        #expect(empty.status == 0, "\(empty.stderr)")
        #expect(empty.stdout.contains("Runs: none yet"))

        let dir = NSTemporaryDirectory() + "shopbulk-status-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/orders.jsonl"
        try
            ([
                Lines.order(5001, updatedAt: "2025-06-01T08:00:00Z"), Lines.lineItem(9011, order: 5001),
                Lines.order(5002, updatedAt: "2025-06-02T08:00:00Z"),
            ]
            .joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let load = try await cli.run([
            "load", file, "--shop", "halo", "--query", "orders", "--advance-high-water", "--queries-dir",
            TestEnvironment.packageRoot + "/queries",
        ])
        #expect(load.status == 0, "\(load.stderr)")

        let table = try await cli.run(["status"])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("halo  halo.myshopify.com  enabled"))
        #expect(table.stdout.contains("In flight: none"))
        #expect(table.stdout.contains("Latest runs:"))
        #expect(table.stdout.contains("load  orders"))
        #expect(table.stdout.contains("loaded"))
        #expect(table.stdout.contains("2025-06-02T08:00:00Z"))
        #expect(table.stdout.contains("Last errors: none"))

        // A failing load shows up under the last errors.
        let bad = dir + "/bad.jsonl"
        try "{\"id\": \"gid://shopify/Order/1\", \"name\": tru}\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let failed = try await cli.run([
            "load", bad, "--shop", "halo", "--query", "orders", "--queries-dir", TestEnvironment.packageRoot + "/queries",
        ])
        #expect(failed.status == 1)

        let json = try await cli.run(["status", "halo", "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let list = try #require(json.json as? [[String: Any]])
        #expect(list.count == 1)
        let shop = list[0]
        #expect(shop["shop"] as? String == "halo")
        let runs = try #require(shop["runs"] as? [[String: Any]])
        #expect(runs.map { $0["status"] as? String } == ["failed", "loaded"])
        #expect(runs.last?["rows_loaded"] as? Int == 3)
        #expect((runs.last?["bytes_downloaded"] as? Int ?? 0) > 0)
        let marks = try #require(shop["high_water_marks"] as? [[String: Any]])
        #expect(marks.first?["updated_at"] as? String == "2025-06-02T08:00:00Z")
        let errors = try #require(shop["last_errors"] as? [[String: Any]])
        #expect(errors.first?["error_code"] as? String == "malformed-line")
        #expect((shop["in_flight"] as? [Any])?.isEmpty == true)

        let unknown = try await cli.run(["status", "nope"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no shop named 'nope'"))

        // Removing the shop deletes the loaded data and the runs with it.
        let remove = try await cli.run(["shop", "remove", "halo", "--yes"])
        #expect(remove.status == 0, "\(remove.stderr)")
        #expect(remove.stdout.contains("2 orders, 1 order lines"))
        #expect(remove.stdout.contains("2 runs"))
        let c = try db.connect()
        for table in ["orders", "order_lines", "sync_runs", "sync_state"] {
            #expect(try c.query("SELECT count(*) AS n FROM \(table)").first?["n"].int == 0, "\(table)")
        }
    }
}
