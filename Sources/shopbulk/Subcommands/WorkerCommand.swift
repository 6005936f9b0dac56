import ArgumentParser
import Foundation
import Importer

/// `shopbulk worker [--jobs N]`: one member of a worker fleet coordinated by PostgreSQL.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run scheduled imports until stopped: claim the most overdue shop, import it, record the outcome, repeat.",
        discussion: """
            Schedules: `shopbulk shop edit NAME --delta-every 15m --reconcile-every 1d`. A shop's first claim \
            runs its full import (resuming an interrupted one), later claims a reconcile when one is due, \
            else a delta. Any number of workers on any number of hosts share the shops through the same \
            database: a claim is the shop's import lock, a session-level advisory lock held by the \
            worker's session for the whole import, which other workers skip. A worker that dies loses \
            its locks with its connections, and the next claim of its shop resumes the import from the \
            ledger. A shop that fails waits --backoff, doubling after each failure in a row, at most \
            --max-backoff; `status` shows the error, the next due time and which worker (host:pid) \
            holds a shop now. Waiting when nothing is due: LISTEN/NOTIFY (a claim ended, a schedule \
            changed), the next due time, or --idle-wait, whichever comes first.

            Connections: at most jobs × (operations + 1) + 1 (each import: a control session and one \
            per operation; +1 for the command itself).

            SIGTERM or Ctrl-C: imports in flight stop cleanly (every run left resumable, the claims \
            recorded as interrupted, the locks released) and the worker exits with 0.
            """)

    @Option(help: "Shops imported at once by this worker (default 1).")
    var jobs = 1
    @Option(help: "Bulk operations at once per shop (default: 5 on API 2026-01+, else 1).")
    var concurrency: Int?
    @Option(name: .customLong("window-days"), help: "Days per window of a full import (default 30).")
    var windowDays: Double = 30
    @Option(name: .customLong("overlap-minutes"), help: "How far before the high-water mark a delta starts (default 5).")
    var overlapMinutes: Double = 5
    @Option(help: "Comma-separated resources (query files) to import (default customers,orders).")
    var resources = "customers,orders"
    @Option(help: "Wait after a shop's first failure (doubling after each failure in a row; default 1m).")
    var backoff = "1m"
    @Option(name: .customLong("max-backoff"), help: "Longest wait of a failing shop (default 6h).")
    var maxBackoff = "6h"
    @Option(name: .customLong("idle-wait"), help: "Longest wait between looks when nothing is due (default 30s).")
    var idleWait = "30s"

    @OptionGroup var shopify: ShopifyOptions
    @OptionGroup var queries: QueryOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    static func seconds(_ text: String, option: String) throws -> Double {
        do {
            guard let s = try FleetSchedule.parseDuration(text) else { throw ValidationError("\(option) cannot be off") }
            return s
        } catch let error as ShopError {
            throw ValidationError("\(option): \(error)")
        }
    }

    func validate() throws {
        guard (1...64).contains(jobs) else { throw ValidationError("--jobs must be 1…64") }
        if let concurrency, !(1...5).contains(concurrency) { throw ValidationError("--concurrency must be 1…5") }
        guard windowDays > 0, overlapMinutes >= 0 else { throw ValidationError("--window-days must be > 0, --overlap-minutes ≥ 0") }
        _ = try Self.seconds(backoff, option: "--backoff")
        _ = try Self.seconds(maxBackoff, option: "--max-backoff")
        _ = try Self.seconds(idleWait, option: "--idle-wait")
    }

    func run() async throws {
        let context = try Context(database: database, output: output, schema: .apply)
        let budget = try ImportCommand.budget(jobs: jobs, concurrency: concurrency, connection: context.connection)
        var options = FleetWorkerOptions()
        options.jobs = budget.jobs
        options.importOptions.windowDays = windowDays
        options.importOptions.overlap = overlapMinutes * 60
        options.importOptions.concurrency = concurrency
        options.importOptions.resources = resources.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        options.backoffBase = try Self.seconds(backoff, option: "--backoff")
        options.backoffCap = try Self.seconds(maxBackoff, option: "--max-backoff")
        options.idleWait = try Self.seconds(idleWait, option: "--idle-wait")
        let engine = ImportEngine(
            databaseURL: context.connectionString, queriesDirectory: queries.queriesDirectory,
            connector: shopify.connector(logger: context.logger),
            progress: ProgressBoard(live: false, logger: context.logger, maximumEntries: 10_000), logger: context.logger)
        let worker = FleetWorker(engine: engine, options: options, logger: context.logger)
        context.logger.notice(
            "worker connections", metadata: ["jobs": "\(budget.jobs)", "operations": "\(budget.operations)", "at most": "\(budget.total)"])
        do {
            try await Interruption.run { await worker.run() }
        } catch let code as ExitCode where code.rawValue == 128 + SIGTERM || code.rawValue == 128 + SIGINT {
            // Asked to stop, and stopped cleanly: the imports in flight are parked, their claims recorded.
        }
        let s = worker.stats.snapshot
        let summary =
            "worker \(options.host):\(options.pid) stopped: \(s["claims"] ?? 0) claims, \(s["ok"] ?? 0) ok, \(s["failed"] ?? 0) failed, \(s["interrupted"] ?? 0) interrupted, \(s["reconnects"] ?? 0) reconnects"
        if output.json {
            printJSON(WorkerReport(worker: "\(options.host):\(options.pid)", counts: s))
        } else {
            FileHandle.standardError.write(Data((summary + "\n").utf8))
        }
    }
}
