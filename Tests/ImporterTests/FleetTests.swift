import Foundation
import Importer
import Migrations
import Postgres
import ShopifySimulator
import TestSupport
import Testing

/// Where the fleet's parts sit on the network.
struct FleetNetwork: Sendable {
    /// Where the simulators listen and what the workers connect to for PostgreSQL.
    var serverAddress = "127.0.0.1"
    /// A launcher per worker (`ip netns exec NS`), empty to run it directly.
    var launchers: [[String]] = []
    /// Extra PostgreSQL listen address and the network allowed to connect from.
    var databaseListen: String?
    var databaseNetwork: String?
}

/// A private PostgreSQL cluster, simulated shops behind one simulator fleet, the shops registered
/// and scheduled, and `shopbulk worker` processes against it.
final class FleetRig: @unchecked Sendable {
    let cluster: PrivateCluster
    let db: TestDatabase
    private(set) var connection: PostgresConnection
    let sims: SimulatorFleet
    let network: FleetNetwork
    let tokenVariable = "SHOPBULK_FLEET_TEST_TOKEN"
    var shopIDs: [Int64] = []

    init(shops: Int, customers: Int, orders: Int, network: FleetNetwork = FleetNetwork(), speed: OperationSpeed = .duration(0.3))
        async throws
    {
        self.network = network
        cluster = try PrivateCluster(extraAddress: network.databaseListen, network: network.databaseNetwork)
        do {
            db = try TestDatabase(adminURL: cluster.adminURL)
            connection = try db.connect()
            try Migrator(directory: TestEnvironment.packageRoot + "/migrations").apply(on: connection)
            let configs = (0..<shops).map { i in
                var c = SimulatorConfig(seed: UInt64(500 + i), customers: customers, orders: orders)
                c.shopName = "fleet\(i)"
                c.speed = speed
                return c
            }
            sims = try await SimulatorFleet.start(
                configs, bindAddress: network.serverAddress, advertisedHost: network.launchers.isEmpty ? nil : "127.0.0.1")
        } catch {
            cluster.stop()
            throw error
        }
        let store = ShopStore(connection: connection)
        for sim in sims.shops {
            let shop = try store.add(
                Shop(
                    name: sim.shopDomain.replacingOccurrences(of: ".myshopify.com", with: ""), storeDomain: sim.shopDomain,
                    authMethod: .token, tokenRef: "env:\(tokenVariable)", apiBase: sim.baseURL))
            shopIDs.append(shop.id)
        }
    }

    func stop() async {
        await sims.stop()
        connection.close()
        cluster.stop()
    }

    /// The workers' database URL (the server address instead of loopback in network namespaces).
    var workerDatabaseURL: String {
        network.launchers.isEmpty ? db.url : db.url.replacingOccurrences(of: "127.0.0.1", with: network.serverAddress)
    }

    func worker(_ n: Int, jobs: Int = 2, failpoint: String? = nil) throws -> ImportProcess {
        try ImportProcess(
            arguments: [
                "worker", "--jobs", String(jobs), "--concurrency", "2", "--window-days", "400", "--database-url", workerDatabaseURL,
                "--queries-dir", TestEnvironment.packageRoot + "/queries", "--migrations-dir", TestEnvironment.packageRoot + "/migrations",
                "--poll-interval", "0.05", "--max-poll-interval", "0.2", "--idle-wait", "1s", "--backoff", "1s", "--max-backoff", "2s",
                "--log-level", "info",
            ], environment: [tokenVariable: sims.shops[0].legacyToken ?? ""], failpoint: failpoint,
            launcher: network.launchers.isEmpty ? [] : network.launchers[(n - 1) % network.launchers.count])
    }

    func reconnect() throws { connection = try db.connect() }

    func count(_ sql: String, _ parameters: [any PostgresBindable] = []) throws -> Int {
        try connection.query(sql, parameters).first?[0].int ?? -1
    }

    /// Polls `condition` (a query, so there is no event to wait on) until it holds or `seconds` pass;
    /// reconnects when the server went away meanwhile.
    func waitUntil(_ what: @autoclosure () -> String, seconds: Double, _ condition: () throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            do {
                if try condition() { return }
            } catch {
                try? reconnect()
            }
            try await Task.sleep(for: .milliseconds(100))  // polling interval of a condition with a deadline
        }
        throw TestEnvironmentError(message: "timed out after \(seconds) s waiting until \(what()); \(diagnosis())")
    }

    /// Where the shops stand, for a failure message.
    func diagnosis() -> String {
        (try? connection.query(
            """
            SELECT coalesce(last_mode, '-') || ' ' || coalesce(last_outcome, '-') || ' ' || count(*) || ' ' || coalesce(min(left(last_error, 300)), '')
            FROM shop_schedules GROUP BY last_mode, last_outcome
            UNION ALL SELECT 'open claims ' || count(*) FROM fleet_claims WHERE ended_at IS NULL
            UNION ALL SELECT 'claims ' || outcome || ' ' || count(*) || ' ' || coalesce(min(left(error, 200)), '') FROM fleet_claims GROUP BY outcome
            """
        ).map { $0[0].string ?? "" }.joined(separator: "; ")) ?? "(no diagnosis: \(String(describing: try? connection.query("SELECT 1"))))"
    }

    /// Each shop's tables hold exactly its simulator's records (ids, update times, totals, lines).
    func expectTablesEqualSimulators(sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(!sims.shops.isEmpty)
        for (sim, shopID) in zip(sims.shops, shopIDs) {
            let expectedCustomers = Set(sim.shop.customers.map { "\($0.id) \($0.updatedAtEpoch)" })
            let expectedOrders = Set(sim.shop.orders.map { "\($0.id) \($0.updatedAtEpoch) \($0.totalPrice.decimal)" })
            let expectedLines = Set(sim.shop.orders.flatMap { o in o.lineItems.map { "\($0.id) \(o.id) \($0.quantity)" } })
            let customers = Set(
                try connection.query(
                    "SELECT id || ' ' || extract(epoch FROM updated_at)::bigint FROM customers WHERE shop_id = $1 AND deleted_at IS NULL",
                    [shopID]
                ).map { $0[0].string ?? "" })
            let orders = Set(
                try connection.query(
                    "SELECT id, extract(epoch FROM updated_at)::bigint, total_price::text FROM orders WHERE shop_id = $1 AND deleted_at IS NULL",
                    [shopID]
                ).map { "\($0[0].string ?? "") \($0[1].string ?? "") \(Decimal(string: $0[2].string ?? "") ?? -1)" })
            let lines = Set(
                try connection.query(
                    "SELECT id || ' ' || order_id || ' ' || quantity FROM order_lines WHERE shop_id = $1 AND deleted_at IS NULL", [shopID]
                ).map { $0[0].string ?? "" })
            #expect(!expectedOrders.isEmpty && !expectedLines.isEmpty, sourceLocation: sourceLocation)
            #expect(customers == expectedCustomers, "\(sim.shopDomain): customers differ", sourceLocation: sourceLocation)
            #expect(orders == expectedOrders, "\(sim.shopDomain): orders differ", sourceLocation: sourceLocation)
            #expect(lines == expectedLines, "\(sim.shopDomain): order lines differ", sourceLocation: sourceLocation)
        }
    }

    /// Pairs of claims of one shop whose times overlap (the database's clock for both).
    func overlappingClaims() throws -> Int {
        try count(
            """
            SELECT count(*) FROM fleet_claims a JOIN fleet_claims b ON a.shop_id = b.shop_id AND a.id < b.id
            WHERE b.started_at < coalesce(a.ended_at, 'infinity') AND a.started_at < coalesce(b.ended_at, 'infinity')
            """)
    }

    /// Query texts submitted again while an operation with the same text could still deliver: one
    /// line per such operation (shop, its number and status, the later ones, the query's start).
    func duplicateSubmissions() -> [String] {
        var duplicates: [String] = []
        for sim in sims.shops {
            let operations = sim.operations.filter { !$0.foreign }.sorted { $0.number < $1.number }
            for (text, ops) in Dictionary(grouping: operations, by: \.query) {
                for op in ops.dropLast() where !["FAILED", "CANCELED", "EXPIRED"].contains(op.status) {
                    let later = ops.filter { $0.number > op.number }.map { "\($0.number) \($0.status)" }
                    duplicates.append(
                        "\(sim.shopDomain): operation \(op.number) \(op.status), again as \(later.joined(separator: ", ")): \(text.prefix(160))"
                    )
                }
            }
        }
        return duplicates
    }
}

/// The fleet scenario: 3 workers over 30 shops, one SIGKILLed while it holds a shop mid-download,
/// the database restarted (immediate mode) while imports run, then a round of deltas after changes
/// at the shops; every shop ends equal to its simulator, no two claims of a shop overlap, nothing
/// is submitted twice, and the killed worker's shops were finished by the others. With `namespaces`,
/// also that every worker's database sessions came from its namespace's address and that its
/// simulator connections went over its veth pair.
func runFleetScenario(_ rig: FleetRig, label: String, namespaces: WorkerNamespaces? = nil) async throws {
    let started = ContinuousClock.now
    let store = FleetStore(connection: rig.connection)
    for id in rig.shopIDs { try store.setSchedule(shopID: id, delta: .every(seconds: 3600), reconcile: .unchanged) }

    let killed = try rig.worker(1, failpoint: "download.50:pause")
    let survivors = [try rig.worker(2), try rig.worker(3)]
    var everyone = [killed] + survivors
    defer { for w in everyone where w.process.isRunning { kill(w.process.processIdentifier, SIGKILL) } }

    // SIGKILL the first worker while it holds a shop, paused in the middle of a download.
    let paused = await killed.waitForLine(containing: "failpoint download.50 paused", seconds: 120)
    #expect(paused, "\(label): \(killed.stderr)")
    guard paused else { throw TestEnvironmentError(message: "\(label): the failpoint was never reached") }
    let killedPID = killed.process.processIdentifier
    if let namespaces {
        // All three workers connected to PostgreSQL from their namespaces' veth addresses.
        try await rig.waitUntil("the database has sessions from all three namespaces", seconds: 60) {
            try rig.count(
                "SELECT count(DISTINCT client_addr) FROM pg_stat_activity WHERE client_addr <<= $1::inet", [namespaces.network])
                == namespaces.names.count
        }
    }
    let held = try rig.connection.query(
        "SELECT shop_id FROM fleet_claims WHERE pid = $1 AND ended_at IS NULL", [Int(killedPID)]
    ).compactMap { $0[0].int64 }
    #expect(!held.isEmpty, "\(label): the paused worker held no shop")
    kill(killedPID, SIGKILL)
    let death = await killed.wait()
    #expect(death.signaled && death.status == SIGKILL)
    let killedAt = try #require(try rig.connection.query("SELECT clock_timestamp()::text").first?[0].string)
    everyone = survivors

    // Restart the database while imports are in flight.
    try await rig.waitUntil("a survivor holds a shop and three shops are done (\(survivors.map { $0.tail() }))", seconds: 120) {
        try rig.count("SELECT count(*) FROM fleet_claims WHERE ended_at IS NULL AND pid <> $1", [Int(killedPID)]) > 0
            && rig.count("SELECT count(*) FROM fleet_claims WHERE outcome = 'ok'") >= 3
    }
    try rig.cluster.restartImmediately()
    try rig.reconnect()

    // Every shop fully imported (the survivors resume what the killed worker and the restart left).
    try await rig.waitUntil("all 30 shops have their full import (\(survivors.map { $0.tail() }))", seconds: 120) {
        try rig.count("SELECT count(*) FROM shop_schedules WHERE last_outcome = 'ok' AND next_delta_at > now() + interval '30 minutes'")
            == rig.shopIDs.count
    }
    // Then changes at the shops and a round of deltas.
    for (i, sim) in rig.sims.shops.enumerated() where i % 3 == 0 { sim.touch(orders: 3, customers: 2) }
    let deltaRound = try #require(try rig.connection.query("SELECT clock_timestamp()::text").first?[0].string)
    // Due 1.5 s after the changes: a delta's window ends at the whole second it starts (a change in
    // that second is the next delta's, through its overlap), so the round starts a second later.
    try rig.connection.execute("UPDATE shop_schedules SET next_delta_at = clock_timestamp() + interval '1.5 seconds'")
    try rig.connection.execute("NOTIFY \(FleetStore.channel)")
    try await rig.waitUntil("every shop had a delta (\(survivors.map { $0.tail() }))", seconds: 180) {
        try rig.count(
            "SELECT count(DISTINCT shop_id) FROM fleet_claims WHERE mode = 'delta' AND outcome = 'ok' AND started_at > $1::timestamptz",
            [deltaRound]) == rig.shopIDs.count
    }

    // SIGTERM: the survivors stop cleanly.
    for w in survivors { kill(w.process.processIdentifier, SIGTERM) }
    for w in survivors {
        let end = await w.wait()
        #expect(!end.signaled && end.status == 0, "\(label): worker exit \(end): \(w.tail(2000))")
        #expect(w.stderr.contains("stopped:"), "\(label): \(w.stderr.suffix(500))")
    }
    let wall = ContinuousClock.now - started

    try rig.expectTablesEqualSimulators()
    let overlaps = try rig.overlappingClaims()
    let duplicates = rig.duplicateSubmissions()
    #expect(overlaps == 0, "\(label): claims of one shop overlapped")
    if !duplicates.isEmpty {
        // What the workers said about the shops concerned, to tell which path submitted again.
        let shops = Set(duplicates.map { String($0.prefix { $0 != "." }) })
        let said = ([killed] + survivors).enumerated().flatMap { n, w in
            w.stderr.split(separator: "\n").filter { line in shops.contains { line.contains("=\($0) ") || line.contains("\($0).myshopify") }
            }
            .map { "worker \(n + 1): \($0)" }
        }
        Issue.record("\(label): submitted twice: \(duplicates.joined(separator: "; "))\n\(said.joined(separator: "\n"))")
    }
    for sim in rig.sims.shops { #expect(!sim.operations.isEmpty) }
    // The killed worker's shops were finished by the others, after it died.
    for shop in held {
        #expect(
            try rig.count(
                "SELECT count(*) FROM fleet_claims WHERE shop_id = $1 AND pid <> $2 AND outcome = 'ok' AND mode = 'full' AND started_at > $3::timestamptz",
                [shop, Int(killedPID), killedAt]) == 1, "\(label): shop \(shop) of the killed worker was not finished by another")
        #expect(
            try rig.count(
                "SELECT count(*) FROM fleet_claims WHERE shop_id = $1 AND pid = $2 AND outcome = 'abandoned'", [shop, Int(killedPID)])
                == 1)
    }
    // The restart happened mid-import: a claim was ended by it.
    let endedByRestart = try rig.count("SELECT count(*) FROM fleet_claims WHERE error = 'the database server restarted'")
    #expect(endedByRestart >= 1, "\(label): the restart ended no claim")
    #expect(try rig.count("SELECT count(*) FROM fleet_claims WHERE ended_at IS NULL") == 0)
    #expect(try rig.count("SELECT count(*) FROM shop_schedules WHERE holder_pid IS NOT NULL") == 0)
    #expect(try rig.count("SELECT count(*) FROM sync_runs WHERE status IN ('failed')") == 0)
    let claims = try rig.count("SELECT count(*) FROM fleet_claims")
    let imports = try rig.count("SELECT count(*) FROM fleet_claims WHERE outcome = 'ok'")
    let workers = try rig.count("SELECT count(DISTINCT pid) FROM fleet_claims")
    #expect(workers == 3)
    var networkFigures = ""
    if let namespaces {
        let dnat = try namespaces.dnatConnections()
        let received = namespaces.hostReceivedBytes()
        #expect(dnat.allSatisfy { $0 > 0 }, "\(label): a namespace made no connection to the simulators over veth: \(dnat)")
        #expect(received.allSatisfy { $0 > 0 }, "\(label): a veth pair carried nothing: \(received)")
        networkFigures =
            ", \(namespaces.names.count) network namespaces (simulator connections over veth per namespace \(dnat), bytes received from each \(received))"
    }
    print(
        "fleet (\(label)): shops \(rig.shopIDs.count), workers 3 (1 SIGKILLed holding \(held.count) shops, database restarted once: \(endedByRestart) claims ended by it), imports \(imports) (30 full + 30 delta), claims \(claims), overlaps \(overlaps), duplicate submissions \(duplicates.count), wall time \(wall)\(networkFigures)"
    )
}

@Suite("A worker fleet coordinated by PostgreSQL", .serialized, .enabled(if: TestEnvironment.databaseTestsEnabled))
struct FleetTests {
    @Test("3 workers, 30 shops, one SIGKILL mid-import, one database restart: every shop equals its simulator, no overlaps, nothing twice")
    func fleetOnLoopback() async throws {
        let rig = try await FleetRig(shops: 30, customers: 20, orders: 60)
        do {
            try await runFleetScenario(rig, label: "loopback")
        } catch {
            await rig.stop()
            throw error
        }
        await rig.stop()
    }

    @Test(
        "the same with each worker in a network namespace of its own: database and simulators over veth (real TCP)",
        .enabled(if: WorkerNamespaces.available, "needs root for ip netns (CI runs as root)"), .timeLimit(.minutes(8)))
    func fleetInNetworkNamespaces() async throws {
        let namespaces = try WorkerNamespaces(count: 3)
        defer { namespaces.remove() }
        let rig = try await FleetRig(shops: 30, customers: 20, orders: 60, network: namespaces.fleetNetwork)
        do {
            try await runFleetScenario(rig, label: "network namespaces", namespaces: namespaces)
        } catch {
            await rig.stop()
            throw error
        }
        await rig.stop()
    }
}
