import Foundation
import Importer
import Logging
import Migrations
import Postgres
import ShopifyAdmin
import ShopifySimulator
import TestSupport

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
        let sim = try await ShopifySimulator.start(config)
        do {
            return try EngineHarness(sim: sim, lineItems: lineItems, adminURL: adminURL, function: function)
        } catch {
            await sim.stop()
            throw error
        }
    }

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

    func stop() async { await sim.stop() }

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
