import Foundation
import HTTP
import Postgres
import ServiceDeskServer
import ShopifySimulator
import TestSupport
import Testing

@Suite("shopbulk serve: shutdown, bounded connections, metrics", .serialized, .enabled(if: TestEnvironment.databaseTestsEnabled))
struct ServeLifecycleTests {
    /// Backends of the server (`application_name` 'shopbulk serve') on the test database, and how
    /// many of them wait for a lock.
    static func serverBackends(_ c: PostgresConnection, _ db: TestDatabase) throws -> (all: Int, waiting: Int) {
        let row = try c.query(
            """
            SELECT count(*) AS n, count(*) FILTER (WHERE wait_event_type = 'Lock') AS w FROM pg_stat_activity
            WHERE datname = $1 AND application_name = 'shopbulk serve'
            """, [db.name]
        ).first
        return (row?["n"].int ?? 0, row?["w"].int ?? 0)
    }

    @Test("SIGTERM with a request in flight: it completes, new connections are refused, the process exits 0")
    func gracefulShutdown() async throws {
        let h = try ServeHarness()
        try await Fixture.load(into: h)
        let key = try await h.createKey("k")
        let s = try h.start()
        #expect(try await Web.get(s.base + "/v1/shops/desk/contacts?email=ann@example.com", key: key).status == 200)

        // Hold the lookup inside PostgreSQL: a lock on orders that the request must wait for.
        let blocker = try h.db.connect()
        try blocker.execute("BEGIN")
        try blocker.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
        let monitor = try h.db.connect()
        let inFlight = Task { try await Web.get(s.base + "/v1/shops/desk/contacts?email=ann@example.com", key: key) }
        try await waitUntil(20, "the request to wait for the lock") { try Self.serverBackends(monitor, h.db).waiting == 1 }

        s.terminate()
        // The listener closes: a new connection is refused while the request is still held.
        try await waitUntil(20, "new connections to be refused") {
            do {
                _ = try await Web.send(HTTPRequest(url: s.base + "/healthz"))
                return false
            } catch let error as HTTPError {
                return error.code == .connect
            }
        }
        #expect(s.process.isRunning, "the server waits for the request in flight")
        #expect(try Self.serverBackends(monitor, h.db).waiting == 1)

        try blocker.execute("COMMIT")
        let reply = try await inFlight.value
        #expect(reply.status == 200)
        #expect(reply.json?["order_count"] as? Int == 3)
        let status = await s.waitForExit()
        #expect(status == 0, "\(s.log)")
        // Its connections are closed.
        try await waitUntil(10, "the server's backends to end") { try Self.serverBackends(monitor, h.db).all == 0 }
    }

    @Test("requests beyond --db-connections wait for one of them: never more backends than that")
    func boundedConnections() async throws {
        let h = try ServeHarness()
        try await Fixture.load(into: h)
        let key = try await h.createKey("k")
        let s = try h.start(["--db-connections", "2"])
        let blocker = try h.db.connect()
        try blocker.execute("BEGIN")
        try blocker.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
        let monitor = try h.db.connect()
        let requests = (0..<24).map { _ in
            Task { try await Web.get(s.base + "/v1/shops/desk/contacts?email=ann@example.com", key: key) }
        }
        // Both connections are held by requests waiting on the lock; the other 22 wait in the pool.
        try await waitUntil(20, "two requests to hold both connections") { try Self.serverBackends(monitor, h.db).waiting == 2 }
        #expect(try Self.serverBackends(monitor, h.db).all == 2)
        try blocker.execute("COMMIT")
        for r in requests { #expect(try await r.value.status == 200) }
        #expect(try Self.serverBackends(monitor, h.db).all <= 2)
        let text = try await Web.get(s.base + "/metrics", key: key).body
        #expect(text.contains("shopbulk_db_connections_peak 2"))
        #expect(text.contains("shopbulk_http_requests_total{route=\"/v1/shops/{shop}/contacts\",method=\"GET\",status=\"200\"} 24"))
    }

    @Test("/metrics after an import of the simulator: rows, last import, runs, rows and bytes match the database")
    func metricsAfterImport() async throws {
        let sim = try await ShopifySimulator.start(SimulatorConfig(seed: 7, customers: 40, orders: 90, apps: [.legacy()]))
        let h = try ServeHarness()
        let add = try await h.cli([
            "shop", "add", "sim", "--store", "sim-shop", "--token-env", "SIM_TOKEN", "--api-base", sim.baseURL, "--no-verify",
        ])
        try #require(add.status == 0, "\(add.stderr)")
        let env = ["SIM_TOKEN": sim.legacyToken ?? ""]
        let imported = try await h.cli(
            [
                "import", "sim", "--full", "--queries-dir", TestEnvironment.packageRoot + "/queries", "--poll-interval", "0.05",
                "--max-poll-interval", "0.2",
            ], environment: env)
        try #require(imported.status == 0, "\(imported.stderr)")
        // A failed load adds an error code to count.
        let bad = h.dir + "/bad.jsonl"
        try "{\"id\": \"gid://shopify/Order/1\", \"name\": tru}\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let failed = try await h.cli([
            "load", bad, "--shop", "sim", "--query", "orders", "--queries-dir", TestEnvironment.packageRoot + "/queries",
        ])
        #expect(failed.status == 1)

        let key = try await h.createKey("prom")
        let s = try h.start()
        _ = try await Web.get(s.base + "/v1/shops/sim/contacts?email=nobody@example.com", key: key)
        let reply = try await Web.get(s.base + "/metrics", key: key)
        #expect(reply.status == 200)
        #expect(reply.headers.header("content-type")?.hasPrefix("text/plain; version=0.0.4") == true)
        let samples = Self.parse(reply.body)
        let c = try h.db.connect()
        func count(_ sql: String) throws -> Double { Double(try c.query(sql).first?["n"].int64 ?? -1) }

        for table in ["customers", "orders", "order_lines"] {
            let expected = try count("SELECT count(*) AS n FROM \(table) WHERE deleted_at IS NULL")
            #expect(expected > 0)
            #expect(samples["shopbulk_table_rows{shop=\"sim\",table=\"\(table)\"}"] == expected, "\(table)")
        }
        let full = try #require(samples["shopbulk_last_import_timestamp_seconds{shop=\"sim\",kind=\"full\"}"])
        let expectedFull = Double(
            try c.query(
                "SELECT extract(epoch FROM max(coalesce(loaded_at, completed_at, updated_at)))::float8::text AS t FROM sync_runs WHERE kind = 'full' AND parent_run_id IS NULL AND status IN ('loaded','partial','empty')"
            ).first?["t"].string ?? "")
        #expect(abs(full - (expectedFull ?? 0)) < 0.001)
        let age = try #require(samples["shopbulk_last_import_age_seconds{shop=\"sim\",kind=\"full\"}"])
        #expect(age >= 0 && age < 600)
        for row in try c.query("SELECT status, count(*) AS n FROM sync_runs GROUP BY status").rows {
            let status = row["status"].string ?? ""
            #expect(samples["shopbulk_runs{shop=\"sim\",status=\"\(status)\"}"] == Double(row["n"].int64 ?? -1), "\(status)")
        }
        #expect(samples["shopbulk_runs{shop=\"sim\",status=\"failed\"}"] == 1)
        #expect(samples["shopbulk_rows_loaded{shop=\"sim\"}"] == (try count("SELECT sum(rows_loaded)::bigint AS n FROM sync_runs")))
        #expect(
            samples["shopbulk_bytes_downloaded{shop=\"sim\"}"] == (try count("SELECT sum(bytes_downloaded)::bigint AS n FROM sync_runs")))
        #expect((samples["shopbulk_bytes_downloaded{shop=\"sim\"}"] ?? 0) > 0)
        #expect(samples["shopbulk_run_errors{shop=\"sim\",code=\"malformed-line\"}"] == 1)
        #expect(samples["shopbulk_http_requests_total{route=\"/v1/shops/{shop}/contacts\",method=\"GET\",status=\"404\"}"] == 1)
        #expect(samples["shopbulk_http_request_duration_seconds_count{route=\"/v1/shops/{shop}/contacts\"}"] == 1)
        #expect(reply.body.contains("# TYPE shopbulk_http_request_duration_seconds histogram"))
        await sim.stop()
    }

    /// `name{labels} value` lines of the exposition text.
    static func parse(_ text: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            out[String(line[..<space])] = value
        }
        return out
    }
}
