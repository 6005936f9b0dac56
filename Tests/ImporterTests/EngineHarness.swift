import Foundation
import Importer
import Logging
import Migrations
import Postgres
import ShopifyAdmin
import ShopifySimulator
import TestSupport

/// Lets at most `limit` engine harnesses exist at once. Each holds a simulator, a database and an
/// engine with up to concurrency + 2 sessions (and some start a `shopbulk` process with as many), and
/// the test cluster keeps PostgreSQL's default max_connections (100), as users have.
actor HarnessSlots {
    private var free: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []
    init(_ limit: Int) { free = limit }
    func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }
    func release() {
        if waiters.isEmpty { free += 1 } else { waiters.removeFirst().resume() }
    }
}

/// A simulator, a migrated test database with the simulated shop registered, and an import engine.
final class EngineHarness: @unchecked Sendable {
    let db: TestDatabase
    let sim: ShopifySimulator
    private(set) var connection: PostgresConnection
    let shop: Shop
    let engine: ImportEngine
    let tokenVariable: String

    static func make(
        customers: Int = 40, orders: Int = 120, lineItems: Bool = true, adminURL: String? = nil, function: String = #function,
        configure: (inout SimulatorConfig) -> Void = { _ in }
    ) async throws -> EngineHarness {
        var config = SimulatorConfig(seed: 11, customers: customers, orders: orders)
        configure(&config)
        await slots.acquire()
        do {
            let sim = try await ShopifySimulator.start(config)
            do {
                return try EngineHarness(sim: sim, lineItems: lineItems, adminURL: adminURL, function: function)
            } catch {
                await sim.stop()
                throw error
            }
        } catch {
            await slots.release()
            throw error
        }
    }

    static let slots = HarnessSlots(4)
    private let stopped = StopOnce()

    private init(sim: ShopifySimulator, lineItems: Bool, adminURL: String?, function: String) throws {
        self.sim = sim
        db = try TestDatabase(adminURL: adminURL, function: function)
        connection = try db.connect()
        try Migrator(directory: TestEnvironment.packageRoot + "/migrations").apply(on: connection)
        tokenVariable = "SHOPBULK_TEST_TOKEN_\(UInt32.random(in: 0...UInt32.max))"
        setenv(tokenVariable, sim.legacyToken ?? "", 1)
        shop = try ShopStore(connection: connection).add(
            Shop(
                name: "sim", storeDomain: sim.shopDomain, authMethod: .token, tokenRef: "env:\(tokenVariable)", importLineItems: lineItems,
                apiBase: sim.baseURL))
        var configuration = ShopifyAdminClient.Configuration()
        configuration.polling = BulkPollingPolicy(initialInterval: .milliseconds(50), maximumInterval: .milliseconds(300))
        configuration.slotWait = BulkSlotWaitPolicy(initialWait: .milliseconds(200), maximumWait: .seconds(1), maxTotalWait: .seconds(60))
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        engine = ImportEngine(
            databaseURL: db.url, queriesDirectory: TestEnvironment.packageRoot + "/queries",
            connector: ShopConnector(configuration: configuration, logger: logger), progress: ProgressBoard(live: false, logger: logger),
            logger: logger)
    }

    /// Stops the simulator and frees the harness's slot (once).
    func stop() async {
        guard stopped.first() else { return }
        await sim.stop()
        connection.close()
        await Self.slots.release()
    }

    /// A new connection for the harness's queries (after the server restarted).
    func reconnect() throws { connection = try db.connect() }

    static var fastOptions: ImportOptions {
        var o = ImportOptions()
        o.windowDays = 200
        o.retryBackoff = .milliseconds(50)
        return o
    }

    func full(_ options: ImportOptions = EngineHarness.fastOptions) async throws -> ImportReport {
        try await engine.run(shop: "sim", mode: .full, options: options)
    }

    func count(_ sql: String) throws -> Int { try connection.query(sql).first?[0].int ?? -1 }
    func text(_ sql: String) throws -> String? { try connection.query(sql).first?[0].string }

    /// Every row of a table, as JSON text without load-time columns, for comparing runs.
    func dump(_ table: String) throws -> [String] {
        try connection.query("SELECT (to_jsonb(t) - 'imported_at' - 'shop_id')::text AS row FROM \(table) t ORDER BY id").map {
            $0["row"].string ?? ""
        }
    }

    /// Submitted bulk query texts, from the simulator's operations.
    var submittedQueries: [String] { sim.operations.map(\.query) }
}

final class StopOnce: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    /// True the first time only.
    func first() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if done { return false }
        done = true
        return true
    }
}
