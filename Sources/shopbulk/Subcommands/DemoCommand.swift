import ArgumentParser
import EmbeddedPostgres
import Foundation
import Importer
import Logging
import Migrations
import Postgres
import ServiceDesk
import ShopifyAdmin
import TrustedFiles

/// `shopbulk demo`: the whole tool against the bundled simulator and the embedded database.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract:
            "Run a full import of a simulated shop into a local PostgreSQL, change some records, run a delta, and show what was loaded.",
        discussion: """
            Starts the Shopify simulator (the shopify-sim executable beside shopbulk, or SHOPBULK_SIMULATOR) \
            as a child process on 127.0.0.1 and, unless --database-url / DATABASE_URL is \
            given, the embedded PostgreSQL cluster (database shopbulk_demo, recreated on every run). Registers \
            the simulated shop as "demo", runs `import --full`, touches, adds and deletes records in the \
            simulator, runs `import --delta` and `import --reconcile`, and prints rows and rows/s.
            """)

    @Option(help: "Customers in the simulated shop.")
    var customers = 5_000
    @Option(help: "Orders in the simulated shop (about 2.5 line items each).")
    var orders = 20_000
    @Option(help: "Seed of the simulated shop.")
    var seed: UInt64 = 42
    @Flag(
        help:
            "With --database-url / DATABASE_URL: allow the demo to use that database (it replaces any shop named \"demo\" there, with all its data, and imports simulated data)."
    )
    var yes = false

    @OptionGroup var queries: QueryOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let logger = output.makeLogger()
        var quiet = logger
        if output.logLevel == nil { quiet.logLevel = .warning }
        // The database: a dedicated, fresh database in the embedded cluster unless one is given.
        let url: String
        if let explicit = database.databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"], !explicit.isEmpty {
            // Not a database the demo made: it may hold a real shop named "demo".
            guard yes else {
                let source = database.databaseURL != nil ? "--database-url" : "DATABASE_URL"
                throw ShopError(
                    .confirmationRequired,
                    "the demo did not create the database \(PostgresConnection.withoutPassword(explicit)) (from \(source)): it would replace any shop named \"demo\" there, with all its imported data, and import simulated data. Run it with --yes to allow that, or without --database-url / DATABASE_URL to use a fresh database of its own in the embedded cluster."
                )
            }
            url = explicit
        } else {
            url = try LocalPostgres(home: database.dataDirectory, logger: logger).freshDatabase("shopbulk_demo")
        }
        let connection = try PostgresConnection(url)
        try Migrator(directory: try database.migrationsPath(), logger: quiet).apply(on: connection)
        let printableURL = PostgresConnection.withoutPassword(url)

        say("Starting the Shopify simulator (\(customers) customers, \(orders) orders, seed \(seed))…")
        let sim = try SimulatorProcess.start(customers: customers, orders: orders, seed: seed)
        defer { sim.stop() }
        setenv("SHOPBULK_DEMO_TOKEN", sim.token, 1)
        let shops = ShopStore(connection: connection)
        if let old = try shops.find("demo") { try shops.remove(old) }
        _ = try shops.add(
            Shop(name: "demo", storeDomain: sim.shopDomain, authMethod: .token, tokenRef: "env:SHOPBULK_DEMO_TOKEN", apiBase: sim.baseURL))
        say("Registered shop \"demo\" (\(sim.shopDomain) at \(sim.baseURL)); database \(printableURL).")

        var configuration = ShopifyAdminClient.Configuration()
        configuration.polling = BulkPollingPolicy(initialInterval: .milliseconds(200), maximumInterval: .seconds(2))
        let progress = ProgressBoard(live: !output.json && isatty(2) == 1, logger: quiet)
        let engine = ImportEngine(
            databaseURL: url, queriesDirectory: queries.queriesDirectory,
            connector: ShopConnector(configuration: configuration, logger: quiet),
            progress: progress, logger: quiet)

        var options = ImportOptions()
        options.windowDays = 180
        say("\n1. Full import (windows of \(Int(options.windowDays)) days, up to 5 bulk operations at once)")
        let full = try await engine.run(shop: "demo", mode: .full, options: options)
        ImportCommand.printReports([full], json: false)

        let touched = try await sim.change("touch", orders: 25, customers: 10)
        let added = try await sim.change("add", orders: 5, customers: 2)
        let deleted = try await sim.change("delete", orders: 3, customers: 0)
        say(
            "\n2. In the simulator: touched \(touched.orders.count) orders and \(touched.customers.count) customers, added \(added.orders.count) orders and \(added.customers.count) customers, deleted \(deleted.orders.count) orders"
        )
        try await Task.sleep(for: .milliseconds(1100))
        say("\n3. Delta import (from the high-water mark minus 5 minutes)")
        let delta = try await engine.run(shop: "demo", mode: .delta, options: options)
        ImportCommand.printReports([delta], json: false)

        var reconcile: ImportReport?
        let queriesDir = try ResourceLocator.directory(named: "queries", explicit: queries.queriesDirectory)
        if FileManager.default.fileExists(atPath: queriesDir + "/reconcile-orders.graphql") {
            say("\n4. Reconcile deletions (id-only export)")
            reconcile = try await engine.run(shop: "demo", mode: .reconcile, options: options)
            ImportCommand.printReports([reconcile!], json: false)
        }
        progress.finish()

        let summary = try ServiceDeskQueries(connection: connection).summary(shop: try shops.require("demo"))
        if output.json {
            printJSON(
                DemoReport(
                    full: .init(
                        rows: full.rowsLoaded, seconds: full.seconds,
                        rowsPerSecond: Int(Double(full.rowsLoaded) / max(full.seconds, 0.001)),
                        operations: full.operationsSubmitted),
                    delta: .init(rows: delta.rowsLoaded, seconds: delta.seconds, operations: delta.operationsSubmitted),
                    markedDeleted: reconcile?.markedDeleted ?? [:],
                    tables: .init(customers: summary.customers, orders: summary.orders, orderLines: summary.orderLines)))
            return
        }
        print("\nSummary")
        print(
            "  full import:  \(full.rowsLoaded) rows in \(String(format: "%.1f", full.seconds)) s = \(Int(Double(full.rowsLoaded) / max(full.seconds, 0.001))) rows/s (\(full.operationsSubmitted) bulk operations)"
        )
        print(
            "  delta import: \(delta.rowsLoaded) rows in \(String(format: "%.1f", delta.seconds)) s (\(delta.operationsSubmitted) bulk operations)"
        )
        if let reconcile { print("  reconcile:    \(reconcile.markedDeleted.values.reduce(0, +)) rows marked deleted") }
        print(
            "  tables: customers \(summary.customers), orders \(summary.orders) (\(summary.deletedOrders) marked deleted), order_lines \(summary.orderLines)"
        )
        print("  top contacts by orders:")
        for c in summary.topContacts {
            print(
                "    \((c.name ?? "?").visiblyEscaped) <\((c.email ?? "").visiblyEscaped)>: \(c.orders) orders, \((c.spent ?? "0").visiblyEscaped) \((c.currency ?? "").visiblyEscaped)"
            )
        }
        let passwordNote = printableURL == url ? "" : " (password left out: psql asks for it)"
        print("\nTry: psql \"\(printableURL)\" -c 'SELECT * FROM contacts LIMIT 5'\(passwordNote)")
    }

    func say(_ text: String) {
        if !output.json { print(text) }
    }
}
