import Foundation
import HTTP
import Logging
import Postgres
import ShopifyAdmin

/// Which import to run.
public enum ImportMode: String, Sendable, CaseIterable {
    /// The initial migration: the shop's whole history in windows, resumable.
    case full
    /// What changed since the committed high-water mark (minus an overlap).
    case delta
    /// An id-only export that marks rows Shopify no longer has with `deleted_at`.
    case reconcile
}

/// Knobs of an import.
public struct ImportOptions: Sendable {
    /// Window field of a full import: `created_at` (stable while the import runs) or `updated_at`.
    public var windowField = "created_at"
    /// Days per window of a full import.
    public var windowDays: Double = 30
    /// Where history starts; default: the oldest record, asked of the shop.
    public var since: Date?
    /// How far before the high-water mark a delta starts, to catch records stamped out of order.
    public var overlap: TimeInterval = 300
    /// Operations at once; default: the API version's limit (5 from 2026-01, else 1).
    public var concurrency: Int?
    /// Bad lines a load may skip.
    public var maxRejects = 0
    /// Attempts per window for `INTERNAL_SERVER_ERROR`, Shopify-side cancels and expired URLs.
    public var maxAttempts = 4
    public var retryBackoff: Duration = .seconds(5)
    /// The resources (query files of `queries/`) an import covers.
    public var resources = ["customers", "orders"]

    public init() {}
}

/// What an import did.
public struct ImportReport: Sendable {
    public var shop: String
    public var mode: ImportMode
    public var operationsSubmitted = 0
    public var windowsLoaded = 0
    public var windowsSplit = 0
    public var retries = 0
    public var rows: [String: Int] = [:]
    public var rejected = 0
    public var markedDeleted: [String: Int] = [:]
    public var bytes: Int64 = 0
    public var seconds: Double = 0
    public var rowsLoaded: Int { rows.values.reduce(0, +) }
}

/// Runs imports: plans windows, records every operation in `sync_runs` before submitting it and after
/// each change, runs up to the API version's number of bulk operations at once, loads their results,
/// and resumes whatever a crashed run left behind without submitting or loading anything twice.
public final class ImportEngine: Sendable {
    let databaseURL: String
    let queriesDirectory: String?
    let connector: ShopConnector
    let progress: ProgressBoard
    let logger: Logger

    public init(databaseURL: String, queriesDirectory: String?, connector: ShopConnector, progress: ProgressBoard, logger: Logger) {
        self.databaseURL = databaseURL
        self.queriesDirectory = queriesDirectory
        self.connector = connector
        self.progress = progress
        self.logger = logger
    }

    func connect() throws -> PostgresConnection { try PostgresConnection(databaseURL) }

    /// Runs `mode` for the named shop, holding the shop's import lock (a second scheduler gets an error).
    public func run(shop name: String, mode: ImportMode, options: ImportOptions) async throws -> ImportReport {
        let lockConnection = try connect()
        let shop = try ShopStore(connection: lockConnection).require(name)
        let key = PostgresConnection.advisoryKey("shopbulk.import.\(shop.id)")
        guard try lockConnection.tryAdvisoryLock(key) else {
            throw ShopError(message: "another shopbulk import of shop \(shop.name) is running (lock held); try again when it ends")
        }
        defer { _ = try? lockConnection.advisoryUnlock(key) }
        let client = try connector.client(for: shop)
        let started = Date()
        var report = ImportReport(shop: shop.name, mode: mode)
        let context = try RunContext(engine: self, shop: shop, client: client, options: options)
        switch mode {
        case .full: try await context.runFull(&report)
        case .delta: try await context.runDelta(&report)
        case .reconcile: try await context.runReconcile(&report)
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    /// Cancels this tool's operations of a shop that are still running (never another app's).
    public func cancel(shop name: String) async throws -> [String] {
        let connection = try connect()
        let shop = try ShopStore(connection: connection).require(name)
        let client = try connector.client(for: shop)
        let rows = try connection.query(
            "SELECT id, operation_gid FROM sync_runs WHERE shop_id = $1 AND operation_gid IS NOT NULL AND status IN ('submitted', 'running')",
            [shop.id], name: "find running operations")
        var canceled: [String] = []
        for row in rows {
            guard let gid = row["operation_gid"].string, let id = row["id"].int64 else { continue }
            _ = try await client.cancel(id: gid)
            try RunLedger(connection: connection).update(id, ["status": "canceled", "error_code": "CANCELED_BY_USER"])
            canceled.append(gid)
        }
        return canceled
    }
}

/// One import of one shop.
final class RunContext: @unchecked Sendable {
    let engine: ImportEngine
    let shop: Shop
    let client: ShopifyAdminClient
    let options: ImportOptions
    let queries: [String: QueryFile]
    let loads = AsyncGate()
    let lock = NSLock()
    var submitted = 0

    init(engine: ImportEngine, shop: Shop, client: ShopifyAdminClient, options: ImportOptions) throws {
        self.engine = engine
        self.shop = shop
        self.client = client
        self.options = options
        var queries: [String: QueryFile] = [:]
        let connection = try engine.connect()
        let schemas = SchemaStore(connection: connection)
        for resource in options.resources {
            var q = try ShopQueryFiles(connection: connection).resolve(resource, shop: shop, queriesDirectory: engine.queriesDirectory)
            try SchemaGate.check(&q, shop: shop, store: schemas, logger: engine.logger)  // before any request
            queries[resource] = q
        }
        self.queries = queries
    }

    var concurrency: Int {
        options.concurrency ?? client.endpoint.apiVersion.concurrentBulkQueries
    }

    /// Types the shop does not want: line items when "import line items" is off.
    var excludedTypes: Set<String> { shop.importLineItems ? [] : ["LineItem"] }

    func query(_ resource: String) throws -> QueryFile {
        guard let q = queries[resource] else { throw ShopError(message: "no query file for resource \(resource)") }
        return q
    }

    // MARK: - Full

    func runFull(_ report: inout ImportReport) async throws {
        let connection = try engine.connect()
        let ledger = RunLedger(connection: connection)
        var jobs: [(resource: String, parent: Int64, snapshot: Date)] = []
        for resource in options.resources {
            let q = try query(resource)
            if let open = try connection.query(
                """
                SELECT id, extract(epoch FROM window_end)::text AS we FROM sync_runs
                WHERE shop_id = $1 AND kind = 'full' AND resource = $2 AND parent_run_id IS NULL AND status = 'running'
                ORDER BY id DESC LIMIT 1
                """, [shop.id, resource], name: "find open full import"
            ).first {
                let id = try open["id"].decode(Int64.self)
                engine.logger.info("resuming the full import", metadata: ["resource": "\(resource)", "run": "\(id)"])
                // Windows that failed or were cancelled last time get a fresh attempt.
                try connection.transaction {
                    let stuck = try connection.query(
                        "SELECT \(RunRecord.columns) FROM sync_runs WHERE parent_run_id = $1 AND status IN ('failed', 'canceled') ORDER BY id",
                        [id], name: "find failed windows"
                    ).map(RunRecord.init)
                    for run in stuck {
                        _ = try ledger.create(run.successor(window: run.window, parentRunID: id, attempt: 1))
                        try ledger.update(run.id, ["status": "retried"])
                    }
                }
                jobs.append((resource, id, Timestamp.fromEpoch(open["we"].string) ?? Date()))
                continue
            }
            let snapshot = Date(timeIntervalSince1970: floor(Date().timeIntervalSince1970))
            // Shopify's customer search names the creation date `customer_date`, not `created_at`.
            let root = try q.prepare(window: nil).rootField
            let field = root == "customers" && options.windowField == "created_at" ? "customer_date" : options.windowField
            let oldest = try await historyStart(resource: root, field: options.windowField)
            // No record at all: one window from before Shopify existed covers whatever appears.
            let start = oldest ?? Date(timeIntervalSince1970: 1_136_073_600)
            let windows = WindowPlanner.split(
                field: field, from: start, to: snapshot.addingTimeInterval(1), days: oldest == nil ? 100_000 : options.windowDays)
            // The parent and all its windows in one transaction: a crash never leaves half a plan.
            let parent = try connection.transaction {
                let parent = try ledger.create(
                    .init(
                        shopID: shop.id, kind: "full", resource: resource, queryName: q.name, queryHash: q.hash, windowField: field,
                        windowStart: Timestamp.text(start), windowEnd: Timestamp.text(snapshot), status: "running"))
                for window in windows {
                    _ = try ledger.create(
                        .init(
                            shopID: shop.id, kind: "full", resource: resource, queryName: q.name, queryHash: q.hash,
                            windowField: window.field,
                            windowStart: window.start.map(Timestamp.text), windowEnd: window.end.map(Timestamp.text), parentRunID: parent))
                }
                return parent
            }
            engine.logger.info(
                "planned the full import",
                metadata: ["resource": "\(resource)", "windows": "\(windows.count)", "from": "\(Timestamp.text(start))"])
            jobs.append((resource, parent, snapshot))
        }
        try await runOpenWindows(kinds: ["full"], report: &report)
        // Every window loaded: the delta imports start from the snapshot time of the plan, not from the
        // greatest updated_at seen (a record changed during the import may sit in an early window).
        for job in jobs {
            let left = try connection.query(
                "SELECT count(*) AS n FROM sync_runs WHERE parent_run_id = $1 AND status NOT IN ('loaded', 'partial', 'empty', 'superseded', 'retried')",
                [job.parent], name: "check full import")
            guard left.first?["n"].int == 0 else {
                throw ShopError(message: "the full import of \(job.resource) has unfinished windows; run the command again to resume")
            }
            try connection.transaction {
                try connection.query(
                    """
                    INSERT INTO sync_state (shop_id, resource, high_water_updated_at, high_water_id, last_run_id, full_import_done_at, updated_at)
                    VALUES ($1, $2, $3::timestamptz, 0, $4, now(), now())
                    ON CONFLICT (shop_id, resource) DO UPDATE SET high_water_updated_at = EXCLUDED.high_water_updated_at,
                        high_water_id = 0, last_run_id = EXCLUDED.last_run_id, full_import_done_at = now(), updated_at = now()
                    """, [shop.id, job.resource, Timestamp.text(job.snapshot), job.parent], name: "record full import done")
                try connection.query(
                    """
                    UPDATE sync_runs p SET status = 'loaded', loaded_at = now(), updated_at = now(),
                        rows_loaded = (SELECT coalesce(sum(rows_loaded), 0) FROM sync_runs c WHERE c.parent_run_id = p.id)
                    WHERE id = $1
                    """, [job.parent], name: "close full import")
            }
        }
    }

    /// The oldest record's timestamp (a cheap normal query), for the first window of a full import.
    func historyStart(resource: String, field: String) async throws -> Date? {
        if let since = options.since { return since }
        let (text, key) = AdminOperations.oldestRecord(resource: resource, field: field)
        // An error here must stop the import: guessing a start would silently skip history.
        let response = try await client.graphQL(query: text, estimatedCost: 2)
        guard let value = response.data?[resource]?["edges"]?.array?.first?["node"]?[key]?.string else { return nil }
        let plain = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let date = plain.date(from: value) ?? fractional.date(from: value) else {
            throw ShopError(message: "cannot read the oldest \(resource) record's \(key) '\(value)'; give --since")
        }
        return Date(timeIntervalSince1970: floor(date.timeIntervalSince1970))
    }

    // MARK: - Delta

    func runDelta(_ report: inout ImportReport) async throws {
        let connection = try engine.connect()
        let ledger = RunLedger(connection: connection)
        // Finish what a crashed delta left first.
        let leftover = try RunRecord.open(shopID: shop.id, kinds: ["delta"], on: connection)
        if leftover.isEmpty {
            let snapshot = Date(timeIntervalSince1970: floor(Date().timeIntervalSince1970))
            try connection.transaction {
                for resource in options.resources {
                    let q = try query(resource)
                    guard
                        let state = try connection.query(
                            """
                            SELECT extract(epoch FROM high_water_updated_at)::text AS hw, full_import_done_at IS NOT NULL AS full
                            FROM sync_state WHERE shop_id = $1 AND resource = $2
                            """, [shop.id, resource], name: "read high-water mark"
                        ).first, state["full"].bool == true, let mark = Timestamp.fromEpoch(state["hw"].string)
                    else {
                        throw ShopError(
                            message:
                                "shop \(shop.name) has no completed full import of \(resource) yet: run `shopbulk import \(shop.name) --full` first (it resumes an interrupted one)"
                        )
                    }
                    let start = mark.addingTimeInterval(-options.overlap)
                    let parent = try ledger.create(
                        .init(
                            shopID: shop.id, kind: "delta", resource: resource, queryName: q.name, queryHash: q.hash,
                            windowField: "updated_at",
                            windowStart: Timestamp.text(start), windowEnd: Timestamp.text(snapshot), status: "running"))
                    _ = try ledger.create(
                        .init(
                            shopID: shop.id, kind: "delta", resource: resource, queryName: q.name, queryHash: q.hash,
                            windowField: "updated_at",
                            windowStart: Timestamp.text(start), windowEnd: Timestamp.text(snapshot), parentRunID: parent))
                }
            }
        }
        try await runOpenWindows(kinds: ["delta"], report: &report)
        // A finished delta saw everything updated before its snapshot: the mark moves to the snapshot
        // (the loader already moved it to the greatest updated_at loaded, which is earlier), so that
        // quiet shops do not re-scan an ever longer stretch. The overlap covers Shopify's index lag.
        try connection.query(
            """
            UPDATE sync_state s SET high_water_updated_at = p.window_end, high_water_id = 0, last_run_id = p.id, updated_at = now()
            FROM sync_runs p
            WHERE p.shop_id = $1 AND p.kind = 'delta' AND p.parent_run_id IS NULL AND p.status = 'running'
              AND s.shop_id = p.shop_id AND s.resource = p.resource
              AND (s.high_water_updated_at IS NULL OR s.high_water_updated_at < p.window_end)
              AND EXISTS (SELECT 1 FROM sync_runs c WHERE c.parent_run_id = p.id AND c.status IN ('loaded', 'partial', 'empty'))
              AND NOT EXISTS (SELECT 1 FROM sync_runs c WHERE c.parent_run_id = p.id
                              AND c.status NOT IN ('loaded', 'partial', 'empty', 'superseded', 'retried'))
            """, [shop.id], name: "advance high-water mark to the delta snapshot")
        try connection.query(
            """
            UPDATE sync_runs p SET status = 'loaded', loaded_at = now(), updated_at = now(),
                rows_loaded = (SELECT coalesce(sum(rows_loaded), 0) FROM sync_runs c WHERE c.parent_run_id = p.id)
            WHERE shop_id = $1 AND kind = 'delta' AND parent_run_id IS NULL AND status = 'running'
              AND EXISTS (SELECT 1 FROM sync_runs c WHERE c.parent_run_id = p.id AND c.status IN ('loaded', 'partial', 'empty'))
              AND NOT EXISTS (SELECT 1 FROM sync_runs c WHERE c.parent_run_id = p.id
                              AND c.status NOT IN ('loaded', 'partial', 'empty', 'superseded', 'retried'))
            """, [shop.id], name: "close delta")
    }

    // MARK: - Windows

    /// Runs every unfinished window run of the given kinds, up to `concurrency` at once, splitting
    /// windows that time out and retrying transient failures.
    func runOpenWindows(kinds: [String], report: inout ImportReport) async throws {
        let connection = try engine.connect()
        let queue = WorkQueue(try RunRecord.open(shopID: shop.id, kinds: kinds, on: connection).map(\.id))
        let tally = Tally()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, concurrency) {
                group.addTask {
                    do {
                        let connection = try self.engine.connect()
                        while let id = await queue.next() {
                            let outcome = try await self.runWindow(id, connection: connection, tally: tally)
                            for next in outcome { await queue.add(next) }
                            await queue.done()
                        }
                    } catch {
                        // Wake the idle workers so the import ends (and releases the shop lock).
                        await queue.fail()
                        throw error
                    }
                }
            }
            try await group.waitForAll()
        }
        let t = await tally.snapshot()
        report.operationsSubmitted += t.submitted
        report.windowsLoaded += t.loaded
        report.windowsSplit += t.split
        report.retries += t.retries
        report.rejected += t.rejected
        report.bytes += t.bytes
        for (table, n) in t.rows { report.rows[table, default: 0] += n }
    }

    /// Takes one window run from wherever it stands to loaded. Returns runs that replace it (halves of
    /// a timed-out window, a retry).
    func runWindow(_ id: Int64, connection: PostgresConnection, tally: Tally) async throws -> [Int64] {
        let ledger = RunLedger(connection: connection)
        var run = try RunRecord.load(id, on: connection)
        let q = try query(run.resource)
        let prepared = try q.prepare(window: run.window, excludingTypes: excludedTypes)
        engine.progress.update(run.id, label: "\(shop.name) \(run.label)") { $0.status = run.status }

        if run.status == "planned" || run.status == "submitting" {
            if run.status == "submitting",
                let adopted = try await findSubmitted(prepared.text, since: run.submittedAt, connection: connection)
            {
                // The process died after Shopify accepted the operation and before we recorded it.
                engine.logger.notice(
                    "adopting an operation submitted before a crash", metadata: ["operation": "\(adopted.id)", "run": "\(id)"])
                try ledger.update(id, ["status": "submitted", "operation_gid": adopted.id])
            } else {
                try ledger.update(id, ["status": "submitting", "submitted_at": Timestamp.text(Date())])
                let operation = try await client.submitBulkQuery(
                    query: prepared.text, groupObjects: false, queryName: q.path,
                    onSlotWait: { [progress = engine.progress] _, _ in progress.update(id, label: "") { $0.status = "slot-wait" } })
                try ledger.update(id, ["status": "submitted", "operation_gid": operation.id, "shopify_status": operation.status.rawValue])
                await tally.add { $0.submitted += 1 }
            }
            run = try RunRecord.load(id, on: connection)
        }

        if run.status == "submitted" || run.status == "running" {
            guard let gid = run.operationGID else { throw ShopError(message: "run \(id) is \(run.status) without an operation id") }
            let age = run.submittedAt.map { Duration.seconds(max(0, Date().timeIntervalSince($0))) } ?? .zero
            let lastWrite = LockedDate()
            let progressLedger = UncheckedLedger(RunLedger(connection: connection))
            do {
                let done = try await client.waitForCompletion(id: gid, initialAge: age) { [progress = engine.progress] op in
                    progress.update(id, label: "") {
                        $0.status = op.status.rawValue.lowercased()
                        $0.objects = op.objectCount
                        $0.fileSize = op.fileSize
                    }
                    if lastWrite.secondsSince() > 5 {
                        lastWrite.touch()
                        try? progressLedger.ledger.update(
                            id,
                            [
                                "status": "running", "shopify_status": op.status.rawValue, "object_count": op.objectCount,
                                "root_object_count": op.rootObjectCount,
                            ])
                    }
                }
                let expires = (done.completedAt ?? Date()).addingTimeInterval(7 * 86_400)
                try ledger.update(
                    id,
                    [
                        "status": done.url == nil ? "empty" : "completed", "shopify_status": done.status.rawValue,
                        "object_count": done.objectCount,
                        "root_object_count": done.rootObjectCount, "file_size": done.fileSize, "result_url": done.url,
                        "url_expires_at": Timestamp.text(expires), "completed_at": Timestamp.text(done.completedAt ?? Date()),
                    ])
                if done.url == nil {
                    engine.progress.update(id, label: "") { $0.status = "empty" }
                    await tally.add { $0.loaded += 1 }
                    return []
                }
            } catch let error as ShopifyError where error.operation != nil {
                // FAILED / CANCELED / EXPIRED as Shopify reported it. Any other error (the network, a
                // 401) leaves the run 'submitted': a rerun polls the same operation, never a new one.
                return try await handleFailure(run, error: error, ledger: ledger, tally: tally)
            }
            run = try RunRecord.load(id, on: connection)
        }

        if run.status == "completed" || run.status == "downloading" {
            if let expiry = run.urlExpiresAt, expiry < Date() {
                return try await handleFailure(
                    run, error: ShopifyError(code: .expired, message: "the result URL expired before it was loaded", isRetryable: true),
                    ledger: ledger, tally: tally)
            }
            guard let url = run.resultURL else { throw ShopError(message: "run \(id) is completed without a result URL") }
            do {
                try await load(run, url: url, query: q, prepared: prepared, ledger: ledger, tally: tally)
            } catch let error as ShopifyError where error.code == .expired {
                return try await handleFailure(run, error: error, ledger: ledger, tally: tally)
            }
        }
        return []
    }

    /// Downloads a result and loads it while it streams (one load at a time per import).
    func load(_ run: RunRecord, url: String, query q: QueryFile, prepared: PreparedQuery, ledger: RunLedger, tally: Tally) async throws {
        await loads.enter()
        defer { Task { await loads.leave() } }
        try ledger.update(run.id, ["status": "downloading"])
        engine.progress.update(run.id, label: "") { $0.status = "loading" }
        let loadConnection = try engine.connect()
        var mapping = q.mapping
        mapping.sections.removeAll { !prepared.types.contains($0.type) }
        let loader = try BulkLoader(
            connection: loadConnection, mapping: mapping, queryFile: q.path, shopID: shop.id, runID: run.id, source: url.redactedURL,
            // The engine moves the mark itself once every window of a run is loaded (full: the plan's
            // snapshot, delta: its snapshot); a window alone must not, or a loaded half of a split delta
            // window would move it past the half that failed.
            options: LoadOptions(maxRejects: options.maxRejects, advanceHighWater: false), logger: engine.logger)
        try loader.begin()
        let progress = engine.progress
        let id = run.id
        var committed = false
        do {
            let summary = try await client.download(
                url: url, from: 0, fileSize: run.fileSize,
                onProgress: { p in progress.update(id, label: "") { $0.bytes = p.bytesDelivered } },
                onChunk: { chunk in try loader.feed(chunk) })
            if let expected = run.fileSize, summary.bytesDelivered != expected {
                throw ShopError(
                    message:
                        "the result of run \(run.id) has \(summary.bytesDelivered) bytes, Shopify announced \(expected); not loading a cut file"
                )
            }
            let result = try loader.finish()
            committed = true
            try? ledger.update(run.id, ["bytes_downloaded": summary.bytesDelivered])
            progress.update(id, label: "") {
                $0.status = "loaded"
                $0.rows = result.rowsLoaded
            }
            await tally.add {
                $0.loaded += 1
                $0.rejected += result.rejected
                $0.bytes += summary.bytesDelivered
                for (table, n) in result.rows { $0.rows[table, default: 0] += n }
            }
        } catch {
            if !committed {
                loader.abort()
                try? ledger.update(run.id, ["status": "completed", "error_message": "load failed: \(error)"])
            }
            throw error
        }
    }

    /// Decides what a failed operation leads to: halves for a TIMEOUT, a new attempt for transient
    /// failures, an error for the rest.
    func handleFailure(_ run: RunRecord, error: ShopifyError, ledger: RunLedger, tally: Tally) async throws -> [Int64] {
        let code = error.shopifyCode ?? error.code.rawValue
        engine.progress.update(run.id, label: "") { $0.status = "failed" }
        let connection = ledger.connection
        if error.code == .operationFailed, error.shopifyCode == "TIMEOUT", let window = run.window, let (a, b) = WindowPlanner.halve(window)
        {
            // Retire the run and create its halves in one transaction: a crash never loses the window.
            let ids = try connection.transaction {
                var ids: [Int64] = []
                for half in [a, b] {
                    ids.append(try ledger.create(run.successor(window: half, parentRunID: run.parentRunID, attempt: 1)))
                }
                try ledger.update(
                    run.id, ["status": "superseded", "error_code": "TIMEOUT", "error_message": "split into two windows after TIMEOUT"])
                return ids
            }
            engine.logger.notice("window timed out; split in two", metadata: ["run": "\(run.id)", "window": "\(run.label)"])
            await tally.add { $0.split += 1 }
            return ids
        }
        let canceledByUser =
            try connection.query("SELECT error_code FROM sync_runs WHERE id = $1", [run.id]).first?["error_code"].string
            == "CANCELED_BY_USER"
        guard error.isRetryable, !canceledByUser, run.attempt < options.maxAttempts else {
            try ledger.fail(
                run.id, code: canceledByUser ? "CANCELED_BY_USER" : code, message: "\(error)",
                status: canceledByUser ? "canceled" : "failed")
            throw error
        }
        // Wait while the run still stands for its window, then replace it in one transaction.
        let backoff = options.retryBackoff * (1 << min(run.attempt - 1, 5))
        engine.logger.notice(
            "operation failed; retrying",
            metadata: ["run": "\(run.id)", "code": "\(code)", "attempt": "\(run.attempt + 1)", "backoff": "\(backoff)"])
        try await Task.sleep(for: backoff)
        let next = try connection.transaction {
            let next = try ledger.create(run.successor(window: run.window, parentRunID: run.parentRunID, attempt: run.attempt + 1))
            try ledger.update(run.id, ["status": "retried", "error_code": code, "error_message": String("\(error)".prefix(500))])
            return next
        }
        await tally.add { $0.retries += 1 }
        return [next]
    }

    /// An operation of this app whose query is exactly `text`, submitted since `since` and not already
    /// recorded for another run (submitted just before a crash).
    func findSubmitted(_ text: String, since: Date?, connection: PostgresConnection) async throws -> BulkOperation? {
        let known = Set(
            try connection.query(
                "SELECT operation_gid FROM sync_runs WHERE shop_id = $1 AND operation_gid IS NOT NULL", [shop.id], name: "known operations"
            ).compactMap { $0["operation_gid"].string })
        let operations = try await client.listOperations(status: nil, limit: 50)
        return operations.first { op in
            op.query == text && !known.contains(op.id)
                && (since.map { (op.createdAt ?? .distantFuture) >= $0.addingTimeInterval(-120) } ?? true)
        }
    }

    // MARK: - Reconcile

    func runReconcile(_ report: inout ImportReport) async throws {
        let connection = try engine.connect()
        let ledger = RunLedger(connection: connection)
        for resource in options.resources {
            let q = try QueryFile.resolve("reconcile-\(resource)", queriesDirectory: engine.queriesDirectory)
            guard let table = q.mapping.sections.first(where: { $0.parentType == nil })?.table else {
                throw QueryFileError(file: q.path, message: "a reconcile query needs a 'Type -> table' mapping line")
            }
            let prepared = try q.prepare(window: nil)
            let runID = try ledger.create(
                .init(shopID: shop.id, kind: "reconcile", resource: resource, queryName: q.name, queryHash: q.hash, status: "submitting"))
            do {
                try await reconcile(
                    resource: resource, table: table, query: q, prepared: prepared, runID: runID, ledger: ledger, report: &report)
            } catch {
                try? ledger.fail(runID, code: (error as? ShopifyError)?.code.rawValue, message: "\(error)")
                throw error
            }
        }
    }

    func reconcile(
        resource: String, table: String, query q: QueryFile, prepared: PreparedQuery, runID: Int64, ledger: RunLedger,
        report: inout ImportReport
    ) async throws {
        do {  // one reconcile export: submit, wait, collect the ids, mark
            engine.progress.update(runID, label: "\(shop.name) reconcile \(resource)") { $0.status = "submitting" }
            let submittedAt = Date()
            let operation = try await client.submitBulkQuery(query: prepared.text, groupObjects: false, queryName: q.path)
            report.operationsSubmitted += 1
            try ledger.update(runID, ["status": "submitted", "operation_gid": operation.id, "submitted_at": Timestamp.text(submittedAt)])
            let done = try await client.waitForCompletion(id: operation.id) { [progress = engine.progress] op in
                progress.update(runID, label: "") {
                    $0.status = op.status.rawValue.lowercased()
                    $0.objects = op.objectCount
                }
            }
            try ledger.update(
                runID, ["status": "downloading", "result_url": done.url, "object_count": done.objectCount, "file_size": done.fileSize])
            let ids = IDCollector(table: table)
            let loadConnection = try engine.connect()
            try ids.begin(on: loadConnection)
            if let url = done.url {
                _ = try await client.download(url: url, fileSize: done.fileSize) { chunk in try ids.feed(chunk) }
            }
            // Only rows that existed when the export began can be judged: newer ones are not in it.
            try ids.end()
            // A cut or incomplete export would mark live rows deleted: the ids must match Shopify's count.
            guard ids.collected == Int(done.rootObjectCount) else {
                try? ledger.fail(
                    runID, code: "INCOMPLETE", message: "collected \(ids.collected) ids, Shopify counted \(done.rootObjectCount)")
                throw ShopError(
                    message:
                        "the reconcile export of \(resource) has \(ids.collected) ids but Shopify counted \(done.rootObjectCount); nothing was marked"
                )
            }
            let marked = try ids.finish(shopID: shop.id, runID: runID, notAfter: submittedAt.addingTimeInterval(-60))
            report.markedDeleted[table] = marked
            engine.progress.update(runID, label: "") {
                $0.status = "loaded"; $0.rows = marked
            }
        }
    }
}

/// A queue of run ids shared by the workers; ends when it is empty and nothing is in flight.
actor WorkQueue {
    private var items: [Int64]
    private var inFlight = 0
    private var waiters: [CheckedContinuation<Int64?, Never>] = []

    init(_ items: [Int64]) { self.items = items }

    private var failed = false

    /// Ends the queue after a worker's error: waiting workers get nil.
    func fail() {
        failed = true
        items.removeAll()
        for waiter in waiters { waiter.resume(returning: nil) }
        waiters.removeAll()
    }

    func next() async -> Int64? {
        if failed { return nil }
        if !items.isEmpty {
            inFlight += 1
            return items.removeFirst()
        }
        if inFlight == 0 { return nil }
        return await withCheckedContinuation { waiters.append($0) }
    }

    func add(_ id: Int64) {
        if failed { return }
        if !waiters.isEmpty {
            inFlight += 1
            waiters.removeFirst().resume(returning: id)
        } else {
            items.append(id)
        }
    }

    func done() {
        inFlight -= 1
        if inFlight == 0 && items.isEmpty {
            for waiter in waiters { waiter.resume(returning: nil) }
            waiters.removeAll()
        }
    }
}

/// Lets one task at a time through (loads share two cores and PostgreSQL).
actor AsyncGate {
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    func enter() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }
    func leave() {
        if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() }
    }
}

/// Counters shared by the workers.
actor Tally {
    struct Counts: Sendable {
        var submitted = 0
        var loaded = 0
        var split = 0
        var retries = 0
        var rejected = 0
        var bytes: Int64 = 0
        var rows: [String: Int] = [:]
    }
    private var counts = Counts()
    func add(_ change: (inout Counts) -> Void) { change(&counts) }
    func snapshot() -> Counts { counts }
}

final class LockedDate: @unchecked Sendable {
    private let lock = NSLock()
    private var date = Date.distantPast
    func secondsSince() -> Double {
        lock.lock()
        defer { lock.unlock() }
        return Date().timeIntervalSince(date)
    }
    func touch() {
        lock.lock()
        date = Date()
        lock.unlock()
    }
}

/// The ledger, handed to a progress callback that runs on the same task (never concurrently).
struct UncheckedLedger: @unchecked Sendable {
    let ledger: RunLedger
    init(_ ledger: RunLedger) { self.ledger = ledger }
}
