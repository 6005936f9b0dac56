import ArgumentParser
import Foundation
import Importer
import Logging
import Postgres
import ShopifyAdmin

/// Options shared by the commands that talk to Shopify.
struct ShopifyOptions: ParsableArguments {
    @Option(name: .customLong("poll-interval"), help: "First polling interval in seconds; it grows with an operation's age (default 1).")
    var pollInterval: Double = 1

    @Option(name: .customLong("max-poll-interval"), help: "Longest polling interval in seconds (default 30).")
    var maxPollInterval: Double = 30

    func validate() throws {
        if pollInterval <= 0 || maxPollInterval < pollInterval {
            throw ValidationError("poll intervals must be > 0 and --max-poll-interval ≥ --poll-interval")
        }
    }

    func connector(logger: Logger) -> ShopConnector {
        var configuration = ShopifyAdminClient.Configuration()
        configuration.polling = BulkPollingPolicy(
            initialInterval: .milliseconds(Int64(pollInterval * 1000)), maximumInterval: .milliseconds(Int64(maxPollInterval * 1000)))
        return ShopConnector(configuration: configuration, logger: logger)
    }
}

/// `shopbulk import SHOP --full|--delta|--reconcile` (or `--all` enabled shops).
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a shop: the full history (--full), what changed since the last import (--delta), or deletions (--reconcile).",
        discussion: """
            --full splits the shop's history into windows and runs up to the API version's number of bulk \
            operations at once (5 from 2026-01); a window that fails with TIMEOUT is split in two. Every \
            operation is recorded in sync_runs before it is submitted, so running the same command again \
            after a crash resumes: running operations are polled, finished ones downloaded, loaded windows \
            skipped, and a resource whose full import completed is not imported again; only when every \
            resource's full import is complete does --full import the whole history anew. --delta starts at the committed high-water mark minus --overlap-minutes. A lock keeps \
            two imports of one shop from running at once.

            --all runs the enabled shops, up to --jobs at once (one progress view, one summary); a shop \
            that fails does not stop the others, and the exit code is the number of shops that failed \
            (at most 100; 0 when all succeeded). Connections: each shop's import holds at most \
            operations + 1 (a control session and one per operation), so the command holds at most \
            jobs × (operations + 1) + 1 — operations + 2 for one shop. The default --jobs is at most 4 \
            and no more than fit in three quarters of the server's free connections; a --jobs that does \
            not fit is refused before anything starts. To spread shops over hosts and schedules, see \
            `shopbulk worker`.
            """)

    @Argument(help: "The shop to import (omit with --all).")
    var shop: String?

    @Flag(help: "Run for every enabled shop.")
    var all = false

    @Flag(help: "Initial migration of the whole history.")
    var full = false
    @Flag(help: "Only what changed since the committed high-water mark.")
    var delta = false
    @Flag(help: "Mark rows Shopify no longer has as deleted (id-only export).")
    var reconcile = false

    @Option(name: .customLong("window-field"), help: "Window field of a full import: created_at (default) or updated_at.")
    var windowField = "created_at"
    @Option(name: .customLong("window-days"), help: "Days per window of a full import (default 30).")
    var windowDays: Double = 30
    @Option(help: "Start of history for a full import (ISO 8601; default: the oldest record).")
    var since: String?
    @Option(name: .customLong("overlap-minutes"), help: "How far before the high-water mark a delta starts (default 5).")
    var overlapMinutes: Double = 5
    @Option(help: "Bulk operations at once (default: 5 on API 2026-01+, else 1).")
    var concurrency: Int?
    @Option(name: .customLong("max-rejects"), help: "Bad lines a load may skip (default 0).")
    var maxRejects = 0
    @Option(help: "Comma-separated resources (query files) to import (default customers,orders).")
    var resources = "customers,orders"
    @Option(
        help: ArgumentHelp(
            "With --all: shops imported at once (default: up to 4, fitted to the server's free connections; connections held: jobs × (operations + 1) + 1).",
            valueName: "N"))
    var jobs: Int?

    @OptionGroup var shopify: ShopifyOptions
    @OptionGroup var queries: QueryOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    var mode: ImportMode { full ? .full : reconcile ? .reconcile : .delta }

    func validate() throws {
        guard [full, delta, reconcile].filter({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --full, --delta, --reconcile")
        }
        guard (shop != nil) != all else { throw ValidationError("give a shop name or --all, not both") }
        guard ["created_at", "updated_at"].contains(windowField) else {
            throw ValidationError("--window-field must be created_at or updated_at")
        }
        guard windowDays > 0, overlapMinutes >= 0, maxRejects >= 0 else {
            throw ValidationError("--window-days must be > 0; --overlap-minutes and --max-rejects ≥ 0")
        }
        if let concurrency, !(1...5).contains(concurrency) { throw ValidationError("--concurrency must be 1…5") }
        if let jobs {
            guard all else { throw ValidationError("--jobs goes with --all") }
            guard (1...64).contains(jobs) else { throw ValidationError("--jobs must be 1…64") }
        }
        if let since, ISO8601DateFormatter().date(from: since) == nil {
            throw ValidationError("--since must be an ISO 8601 date-time such as 2020-01-01T00:00:00Z")
        }
    }

    func run() async throws {
        let context = try Context(database: database, output: output, schema: .apply)
        var options = ImportOptions()
        options.windowField = windowField
        options.windowDays = windowDays
        options.since = since.flatMap { ISO8601DateFormatter().date(from: $0) }
        options.overlap = overlapMinutes * 60
        options.concurrency = concurrency
        options.maxRejects = maxRejects
        options.resources = resources.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let progress = ProgressBoard(live: !output.json && isatty(2) == 1, logger: context.logger)
        let engine = ImportEngine(
            databaseURL: context.connectionString, queriesDirectory: queries.queriesDirectory,
            connector: shopify.connector(logger: context.logger),
            progress: progress, logger: context.logger)
        let names = all ? try ShopStore(connection: context.connection).all().filter(\.enabled).map(\.name) : [shop!]
        if names.isEmpty { context.logger.notice("no enabled shops") }
        let mode = self.mode
        let frozenOptions = options
        let budget =
            all
            ? try Self.budget(jobs: jobs, concurrency: concurrency, connection: context.connection)
            : ConnectionBudget(operations: concurrency ?? 5, jobs: 1)
        if all && names.count > 1 {
            context.logger.info(
                "importing shops", metadata: ["shops": "\(names.count)", "jobs": "\(budget.jobs)", "connections": "≤ \(budget.total)"])
        }
        let results = try await Interruption.run { () async throws -> [(shop: String, result: Result<ImportReport, any Error>)] in
            defer { progress.finish() }
            let results = await engine.run(shops: names, mode: mode, options: frozenOptions, jobs: budget.jobs)
            try Task.checkCancellation()
            return results
        }
        let reports = results.compactMap { try? $0.result.get() }
        let failures = results.compactMap { r -> (shop: String, error: any Error)? in
            if case .failure(let error) = r.result { return (r.shop, error) }
            return nil
        }
        Self.printReports(reports, json: output.json)
        guard let first = failures.first else { return }
        // One shop: its own error, with its code and exit status.
        if !all { throw first.error }
        var summary = "\(failures.count) of \(names.count) shops failed:"
        for (shop, error) in failures {
            summary += "\n  \(shop): " + (ImportError.code(of: error).map { "[\($0)] " } ?? "") + "\(error)"
        }
        FileHandle.standardError.write(Data((TerminalText.escape(summary, keepingNewlines: true) + "\n").utf8))
        throw ExitCode(Int32(min(100, failures.count)))
    }

    /// The connections the import may hold: `jobs` shops at once (default: fitted to the server's
    /// free connections), each with up to `concurrency` operations (default 5).
    static func budget(jobs: Int?, concurrency: Int?, connection: PostgresConnection) throws -> ConnectionBudget {
        let operations = concurrency ?? 5
        let room = try ConnectionBudget.room(on: connection)
        let budget = ConnectionBudget(
            operations: operations, jobs: jobs ?? ConnectionBudget.defaultJobs(operations: operations, room: room))
        try budget.check(room: room)
        return budget
    }

    static func printReports(_ reports: [ImportReport], json: Bool) {
        if json {
            printJSON(reports.map(ImportJSON.init))
            return
        }
        for r in reports {
            let rate = r.seconds > 0 ? Int(Double(r.rowsLoaded) / r.seconds) : 0
            print(
                "\(r.shop): \(r.mode.rawValue) import done in \(String(format: "%.1f", r.seconds)) s: \(r.operationsSubmitted) operations, \(r.windowsLoaded) windows loaded, \(r.rowsLoaded) rows (\(rate) rows/s), \(r.bytes) bytes"
            )
            for (table, n) in r.rows.sorted(by: { $0.key < $1.key }) { print("  \(table): \(n) rows") }
            for (table, n) in r.markedDeleted.sorted(by: { $0.key < $1.key }) { print("  \(table): \(n) rows marked deleted") }
            if r.windowsSplit > 0 { print("  \(r.windowsSplit) windows split after TIMEOUT") }
            if r.retries > 0 { print("  \(r.retries) operations retried") }
            if r.rejected > 0 { print("  \(r.rejected) bad lines skipped (see rejected_records)") }
        }
    }
}
