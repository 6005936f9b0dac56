import BulkQueries
import Failpoints
import Foundation
import HTTP
import Loader
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
///
/// Resources: an import holds at most `concurrency + 1` database sessions (one control session that
/// holds the shop's lock and plans, one per worker, which also carries that worker's loads; a
/// reconcile holds two), whatever the number of windows (`ConnectionBudget` adds them up for several
/// shops at once); each is closed when its owner ends, on errors and cancellation too. Every
/// libpq and libcurl call runs on the fixed `BlockingPool`.
public final class ImportEngine: Sendable {
    let databaseURL: String
    let queriesDirectory: String?
    let connector: ShopConnector
    public let progress: ProgressBoard
    let logger: Logger
    /// The database sessions this engine holds (now, at most at once, in all).
    public let connections = ConnectionGauge()

    public init(databaseURL: String, queriesDirectory: String?, connector: ShopConnector, progress: ProgressBoard, logger: Logger) {
        self.databaseURL = databaseURL
        self.queriesDirectory = queriesDirectory
        self.connector = connector
        self.progress = progress
        self.logger = logger
    }

    /// Opens a session for `body` and closes it when `body` ends.
    func withSession<T>(_ role: String, _ body: (DatabaseSession) async throws -> T) async throws -> T {
        try await DatabaseSession.with(url: databaseURL, role: "shopbulk \(role)", gauge: connections, body)
    }

    /// Runs `mode` for the named shop, holding the shop's import lock (a second scheduler gets an error).
    public func run(shop name: String, mode: ImportMode, options: ImportOptions) async throws -> ImportReport {
        try await withSession("import \(name)") { control in
            let shop = try await control.run { try ShopStore(connection: $0).require(name) }
            return try await run(shop: shop, mode: mode, options: options, control: control)
        }
    }

    /// Runs `mode` for `shop` with `control` as the import's control session. The shop's lock is a
    /// session-level advisory lock, so a caller that already holds it on `control` (a fleet worker's
    /// claim) takes it again here and keeps it after the import ends.
    func run(shop: Shop, mode: ImportMode, options: ImportOptions, control: DatabaseSession) async throws -> ImportReport {
        let lock = ImportLock(shopID: shop.id)
        guard try await control.run({ try lock.acquire(on: $0) }) else {
            throw ImportError(
                code: "LOCKED", message: "another shopbulk import of shop \(shop.name) is running (lock held); try again when it ends")
        }
        do {
            let report = try await runLocked(shop: shop, mode: mode, options: options, control: control, lock: lock)
            try? await control.run { try lock.release(on: $0) }
            return report
        } catch {
            // The lock goes with the session when it closes; releasing it here is a courtesy.
            try? await control.run { try lock.release(on: $0) }
            throw error
        }
    }

    private func runLocked(shop: Shop, mode: ImportMode, options: ImportOptions, control: DatabaseSession, lock: ImportLock)
        async throws -> ImportReport
    {
        let client = try connector.client(for: shop)
        let started = Date()
        var report = ImportReport(shop: shop.name, mode: mode)
        // The shop's query files (its own or the bundled ones), checked against its API version and
        // cached schema before any request.
        let (directory, resources, logger) = (queriesDirectory, options.resources, logger)
        let queries = try await control.run {
            try SchemaGate.queries(resources, shop: shop, queriesDirectory: directory, connection: $0, logger: logger)
        }
        let context = try RunContext(
            engine: self, shop: shop, client: client, options: options, control: control, lock: lock, queries: queries)
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
        try await withSession("cancel \(name)") { session in
            let shop = try await session.run { try ShopStore(connection: $0).require(name) }
            let client = try connector.client(for: shop)
            let runs = try await session.ledger { try $0.cancelable(shopID: shop.id) }
            var canceled: [String] = []
            for run in runs {
                _ = try await client.cancel(id: run.operation)
                // Only while it still runs at Shopify: a window that completed meanwhile keeps its data.
                try await session.ledger {
                    try $0.record(run.id, .init(status: .canceled, errorCode: "CANCELED_BY_USER"), onlyIf: RunStatus.atShopify)
                }
                canceled.append(run.operation)
            }
            return canceled
        }
    }
}

/// The shop's import lock: a session-level advisory lock on the import's control session, checked
/// before every window so that a lost session (and with it the lock) stops the import loudly.
struct ImportLock: Sendable {
    let key: Int64
    init(shopID: Int64) { key = PostgresConnection.advisoryKey("shopbulk.import.\(shopID)") }
    func acquire(on connection: PostgresConnection) throws -> Bool { try connection.tryAdvisoryLock(key) }
    func release(on connection: PostgresConnection) throws { try connection.advisoryUnlock(key) }
    func check(on connection: PostgresConnection) throws {
        guard try connection.holdsAdvisoryLock(key) else {
            throw ImportError(
                code: "LOCK_LOST", message: "the import lock of the shop was lost; stopping so that no other import runs beside this one")
        }
    }
}

/// One import of one shop.
final class RunContext: @unchecked Sendable {
    let engine: ImportEngine
    let shop: Shop
    let client: ShopifyAdminClient
    let options: ImportOptions
    let queries: [String: QueryFile]
    let control: DatabaseSession
    let lock: ImportLock
    let loads = AsyncGate()
    let policy: FailurePolicy

    init(
        engine: ImportEngine, shop: Shop, client: ShopifyAdminClient, options: ImportOptions, control: DatabaseSession, lock: ImportLock,
        queries: [String: QueryFile]
    ) throws {
        self.engine = engine
        self.shop = shop
        self.client = client
        self.options = options
        self.control = control
        self.lock = lock
        self.policy = FailurePolicy(maxAttempts: options.maxAttempts, backoff: options.retryBackoff)
        self.queries = queries
    }

    var concurrency: Int { max(1, options.concurrency ?? client.endpoint.apiVersion.concurrentBulkQueries) }

    /// Types the shop does not want: line items when "import line items" is off.
    var excludedTypes: Set<String> { shop.importLineItems ? [] : ["LineItem"] }

    func query(_ resource: String) throws -> QueryFile {
        guard let q = queries[resource] else { throw ImportError(code: "NO_QUERY", message: "no query file for resource \(resource)") }
        return q
    }

    func checkLock() async throws {
        let lock = self.lock
        try await control.run { try lock.check(on: $0) }
    }

    // MARK: - Full

    func runFull(_ report: inout ImportReport) async throws {
        var jobs: [(resource: String, parent: Int64, snapshot: Date)] = []
        let shopID = shop.id
        var openParents: [String: (id: Int64, windowEnd: Date)] = [:]
        var done: Set<String> = []
        var resources: [String] = []
        for resource in options.resources where !resources.contains(resource) { resources.append(resource) }
        for resource in resources {
            if let open = try await control.ledger({ try $0.openParent(shopID: shopID, kind: "full", resource: resource) }) {
                openParents[resource] = open
            }
            if try await control.ledger({ try $0.highWater(shopID: shopID, resource: resource) })?.fullImportDone == true {
                done.insert(resource)
            }
        }
        // A full import that is under way or incomplete finishes what is missing (a crash between two
        // resources' completions must not import the first again); only when every resource's full
        // import is complete and none is open does --full import everything again.
        let startOver = openParents.isEmpty && done.count == resources.count
        var plans: [(resource: String, plan: FullImportPlanner.Plan, snapshot: Date)] = []
        for resource in resources {
            let q = try query(resource)
            if !startOver && openParents[resource] == nil && done.contains(resource) {
                engine.logger.info("the full import is complete; not importing it again", metadata: ["resource": "\(resource)"])
                continue
            }
            if let open = openParents[resource] {
                engine.logger.info("resuming the full import", metadata: ["resource": "\(resource)", "run": "\(open.id)"])
                // Windows that failed or were cancelled last time get a fresh attempt.
                _ = try await control.ledger { try $0.retryUnsuccessful(parent: open.id) }
                jobs.append((resource, open.id, open.windowEnd))
                continue
            }
            let snapshot = Date(timeIntervalSince1970: floor(Date().timeIntervalSince1970))
            let root = try q.prepare(window: nil).rootField
            let field = FullImportPlanner.searchField(root: root, windowField: options.windowField)
            let oldest = try await historyStart(resource: root, field: options.windowField)
            let plan = FullImportPlanner.plan(
                shopID: shopID, resource: resource, query: q, field: field, oldest: oldest, snapshot: snapshot, days: options.windowDays)
            plans.append((resource, plan, snapshot))
        }
        // Every new plan, parents and windows, in one transaction: a crash or a failed request while
        // planning never leaves half a plan, nor one resource re-planned and the next still "complete".
        let planned = plans
        let parents = try await control.run { connection in
            try connection.transaction {
                let ledger = RunLedger(connection: connection)
                return try planned.map { entry in
                    let parent = try ledger.create(entry.plan.parent)
                    for var window in entry.plan.windows {
                        window.parentRunID = parent
                        try ledger.create(window)
                    }
                    return parent
                }
            }
        }
        for (entry, parent) in zip(plans, parents) {
            engine.logger.info(
                "planned the full import",
                metadata: [
                    "resource": "\(entry.resource)", "windows": "\(entry.plan.windows.count)",
                    "from": "\(entry.plan.parent.windowStart ?? "")",
                ])
            jobs.append((entry.resource, parent, entry.snapshot))
        }
        try await runOpenWindows(kinds: ["full"], report: &report)
        // Every window loaded: the delta imports start from the snapshot time of the plan, not from the
        // greatest updated_at seen (a record changed during the import may sit in an early window).
        for job in jobs {
            let left = try await control.ledger { try $0.windows(parent: job.parent, in: RunStatus.blocksCompletion) }
            guard left == 0 else {
                throw ImportError(
                    code: "UNFINISHED",
                    message: "the full import of \(job.resource) has \(left) unfinished windows; run the command again to resume")
            }
            try await control.run { connection in
                try connection.transaction {
                    let ledger = RunLedger(connection: connection)
                    try ledger.recordFullImportDone(shopID: shopID, resource: job.resource, snapshot: job.snapshot, parent: job.parent)
                    try ledger.closeParent(job.parent)
                }
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
        guard let date = Timestamp.parseISO(value) else {
            throw ImportError(code: "BAD_TIMESTAMP", message: "cannot read the oldest \(resource) record's \(key) '\(value)'; give --since")
        }
        return Date(timeIntervalSince1970: floor(date.timeIntervalSince1970))
    }

    // MARK: - Delta

    func runDelta(_ report: inout ImportReport) async throws {
        let shopID = shop.id
        let kinds = ["delta"]
        // A resource whose last delta a crash left unfinished finishes that one; the others get a new one.
        let requested = options.resources
        let leftover = Set(
            try await control.ledger { try $0.resumable(shopID: shopID, kinds: kinds, resources: requested) }.map(\.resource))
        let fresh = requested.filter { !leftover.contains($0) }
        if !fresh.isEmpty {
            let snapshot = Date(timeIntervalSince1970: floor(Date().timeIntervalSince1970))
            let resources = try fresh.map { ($0, try query($0)) }
            let overlap = options.overlap
            let shopName = shop.name
            try await control.run { connection in
                try connection.transaction {
                    let ledger = RunLedger(connection: connection)
                    for (resource, q) in resources {
                        guard let state = try ledger.highWater(shopID: shopID, resource: resource), state.fullImportDone,
                            let mark = state.mark
                        else {
                            throw ImportError(
                                code: "NO_FULL_IMPORT",
                                message:
                                    "shop \(shopName) has no completed full import of \(resource) yet: run `shopbulk import \(shopName) --full` first (it resumes an interrupted one)"
                            )
                        }
                        let plan = DeltaPlanner.plan(
                            shopID: shopID, resource: resource, query: q, mark: mark, overlap: overlap, snapshot: snapshot)
                        let parent = try ledger.create(plan.parent)
                        var window = plan.window
                        window.parentRunID = parent
                        try ledger.create(window)
                    }
                }
            }
        }
        try await runOpenWindows(kinds: kinds, report: &report)
        // A finished delta saw everything updated before its snapshot: the mark moves to the snapshot,
        // so that quiet shops do not re-scan an ever longer stretch. The overlap covers Shopify's lag.
        try await control.run { connection in
            let ledger = RunLedger(connection: connection)
            for parent in try ledger.openDeltaParents(shopID: shopID) {
                guard try ledger.windows(parent: parent.id, in: RunStatus.blocksCompletion) == 0,
                    try ledger.windows(parent: parent.id, in: RunStatus.done) > 0
                else { continue }
                try connection.transaction {
                    try ledger.advanceHighWater(shopID: shopID, resource: parent.resource, to: parent.windowEnd, run: parent.id)
                    try ledger.closeParent(parent.id)
                }
            }
        }
    }

    // MARK: - Windows

    /// Runs every unfinished window run of the given kinds, up to `concurrency` at once, splitting
    /// windows that time out and retrying transient failures. Each worker owns one session.
    func runOpenWindows(kinds: [String], report: inout ImportReport) async throws {
        let shopID = shop.id
        let resources = options.resources
        let open = try await control.ledger { try $0.resumable(shopID: shopID, kinds: kinds, resources: resources) }
        // Every window on the board from the start, so that its bars count what is left.
        for run in open {
            engine.progress.update(run.id, label: "\(shop.name) \(run.label)") {
                $0.group = "\(shop.name) \(run.resource)"
                $0.status = run.status.rawValue
            }
        }
        let queue = WorkQueue(open.map(\.id))
        let tally = Tally()
        // A single window may split into two halves: room for both.
        let workers = min(concurrency, max(2, open.count))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<workers {
                group.addTask {
                    do {
                        try await self.engine.withSession("import \(self.shop.name) worker \(n + 1)") { session in
                            while let id = await queue.next() {
                                let successors = try await self.runWindow(id, session: session, tally: tally)
                                for next in successors { await queue.add(next) }
                                await queue.done()
                            }
                        }
                        try Task.checkCancellation()
                    } catch {
                        // Wake the idle workers so the import ends (and releases the shop lock).
                        await queue.stop()
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

    /// Takes one window run from wherever it stands to finished, one lifecycle step at a time.
    /// Returns the runs that replace it (halves of a timed-out window, a retry).
    func runWindow(_ id: Int64, session: DatabaseSession, tally: Tally) async throws -> [Int64] {
        var run = try await session.ledger { try $0.load(id) }
        let q = try query(run.resource)
        let prepared = try q.prepare(window: run.window, excludingTypes: excludedTypes)
        let job = BulkJob(runID: id, shopID: shop.id, client: client, session: session, progress: engine.progress, logger: engine.logger)
        engine.progress.update(id, label: "\(shop.name) \(run.label)") {
            $0.group = "\(shop.name) \(run.resource)"
            $0.status = run.status.rawValue
        }
        while true {
            let action = WindowLifecycle.action(
                status: run.status, operation: run.operationGID, resultURL: run.resultURL, urlExpiresAt: run.urlExpiresAt, now: Date())
            if action != .none { try await checkLock() }
            switch action {
            case .none:
                return []
            case .inconsistent(let why):
                throw ImportError(code: "INCONSISTENT", message: "sync run \(id): \(why)")
            case .submit, .adoptOrSubmit:
                try expect(run, .submitting)
                if action == .adoptOrSubmit, try await job.adopt(prepared.text, since: run.submittedAt) != nil {
                    // The process died after Shopify accepted the operation and before it was recorded.
                } else {
                    _ = try await job.submit(prepared.text, queryName: q.path)
                    await tally.add { $0.submitted += 1 }
                }
            case .poll(let operation):
                do {
                    let done = try await job.poll(operation, submittedAt: run.submittedAt)
                    try expect(run, .completed(hasResult: done.url != nil))
                    if done.url == nil { await tally.add { $0.loaded += 1 } }
                } catch let error as ShopifyError where error.operation != nil {
                    // FAILED / CANCELED / EXPIRED as Shopify reported it.
                    return try await fail(run, error: error, session: session, tally: tally)
                }
            case .load(let url):
                try expect(run, .downloadStarted)
                do {
                    try await load(run, url: url, query: q, prepared: prepared, job: job, session: session, tally: tally)
                } catch let error as ShopifyError where error.code == .expired {
                    return try await fail(run, error: error, session: session, tally: tally)
                }
            case .expired:
                let error = ShopifyError(code: .expired, message: "the result URL expired before it was loaded", isRetryable: true)
                return try await fail(run, error: error, session: session, tally: tally)
            }
            run = try await session.ledger { try $0.load(id) }
        }
    }

    /// Checks that `event` may happen to `run` now (the lifecycle is the one source of truth).
    func expect(_ run: RunRecord, _ event: WindowLifecycle.Event) throws {
        if case .invalid = WindowLifecycle.transition(from: run.status, on: event, window: run.window, attempt: run.attempt, policy: policy)
        {
            throw ImportError(code: "INCONSISTENT", message: "sync run \(run.id) is \(run.status.rawValue); \(event) cannot happen to it")
        }
    }

    /// Downloads a result and loads it while it streams (one load at a time per import), on the
    /// worker's own session.
    func load(
        _ run: RunRecord, url: String, query q: QueryFile, prepared: PreparedQuery, job: BulkJob, session: DatabaseSession, tally: Tally
    ) async throws {
        var mapping = q.mapping
        mapping.sections.removeAll { !prepared.types.contains($0.type) }
        let connection = session.unsafeConnection
        let (shopID, runID, source, maxRejects, logger) = (shop.id, run.id, url.redactedURL, options.maxRejects, engine.logger)
        let path = q.path
        let fileSize = run.fileSize
        let frozenMapping = mapping
        try await loads.with {
            let loader = try await session.run { _ in
                UnsafeSink(
                    sink: try BulkLoader(
                        connection: connection.connection, mapping: frozenMapping, queryFile: path, shopID: shopID, runID: runID,
                        source: source,
                        // The engine moves the mark itself once every window of a run is loaded (full: the
                        // plan's snapshot, delta: its snapshot); a window alone must not, or a loaded half of a
                        // split delta window would move it past the half that failed.
                        options: LoadOptions(maxRejects: maxRejects, advanceHighWater: false), logger: logger))
            }
            do {
                let (result, bytes) = try await job.deliver(url: url, fileSize: fileSize, into: loader.sink)
                await tally.add {
                    $0.loaded += 1
                    $0.rejected += result.rejected
                    $0.bytes += bytes
                    for (table, n) in result.rows { $0.rows[table, default: 0] += n }
                }
            } catch {
                // The load rolled back; the window stays completed and the next run loads it again.
                let message = "load failed: \(error)"
                try? await session.ledger {
                    try $0.record(runID, .init(status: .completed, errorMessage: message), onlyIf: [.downloading])
                }
                throw error
            }
        }
    }

    /// Records what a failed operation leads to (the failure policy's decision): halves for a
    /// TIMEOUT, a retry after a backoff, or the end of the import.
    func fail(_ run: RunRecord, error: ShopifyError, session: DatabaseSession, tally: Tally) async throws -> [Int64] {
        engine.progress.update(run.id, label: "") { $0.status = RunStatus.failed.rawValue }
        let runID = run.id
        let canceledByUser = try await session.ledger { try $0.errorCode(runID) } == "CANCELED_BY_USER"
        let failure = WindowLifecycle.Failure(
            code: error.shopifyCode ?? error.code.rawValue,
            timedOut: error.code == .operationFailed && error.shopifyCode == "TIMEOUT",
            retryable: error.isRetryable, canceledByUser: canceledByUser)
        switch WindowLifecycle.transition(from: run.status, on: .failed(failure), window: run.window, attempt: run.attempt, policy: policy)
        {
        case .failure(.split(let a, let b)):
            let successors = [a, b].map { run.successor(window: $0, parentRunID: run.parentRunID, attempt: 1) }
            let ids = try await session.ledger {
                try $0.replace(run, with: successors, status: .superseded, code: "TIMEOUT", message: "split into two windows after TIMEOUT")
            }
            engine.logger.notice("window timed out; split in two", metadata: ["run": "\(run.id)", "window": "\(run.label)"])
            await tally.add { $0.split += 1 }
            return ids
        case .failure(.retry(let backoff, let attempt)):
            engine.logger.notice(
                "operation failed; retrying",
                metadata: ["run": "\(run.id)", "code": "\(failure.code)", "attempt": "\(attempt)", "backoff": "\(backoff)"])
            engine.progress.update(run.id, label: "") { $0.status = "backoff" }
            Failpoint.hit("retry.backoff")
            // Wait while the run still stands for its window, then replace it in one transaction.
            try await Task.sleep(for: backoff)
            let successor = run.successor(window: run.window, parentRunID: run.parentRunID, attempt: attempt)
            let message = String("\(error)".prefix(500))
            let ids = try await session.ledger {
                try $0.replace(run, with: [successor], status: .retried, code: failure.code, message: message)
            }
            await tally.add { $0.retries += 1 }
            return ids
        case .failure(.fail(let status, let code, let reason)):
            let message = "\(error) (\(reason))"
            try await session.ledger { try $0.fail(runID, code: code, message: message, status: status) }
            throw error
        case .to, .invalid:
            throw ImportError(code: "INCONSISTENT", message: "sync run \(run.id) is \(run.status.rawValue); it cannot fail now")
        }
    }

    // MARK: - Reconcile

    func runReconcile(_ report: inout ImportReport) async throws {
        let shopID = shop.id
        for resource in options.resources {
            let q = try QueryFile.resolve("reconcile-\(resource)", queriesDirectory: engine.queriesDirectory)
            guard let table = q.mapping.sections.first(where: { $0.parentType == nil })?.table else {
                throw QueryFileError(file: q.path, message: "a reconcile query needs a 'Type -> table' mapping line")
            }
            let prepared = try q.prepare(window: nil)
            let runID = try await control.ledger {
                try $0.create(.init(shopID: shopID, kind: "reconcile", resource: resource, queryName: q.name, queryHash: q.hash))
            }
            engine.progress.update(runID, label: "\(shop.name) reconcile \(resource)") { $0.status = RunStatus.planned.rawValue }
            do {
                report.markedDeleted[table] = try await reconcile(
                    resource: resource, table: table, query: q, prepared: prepared, runID: runID, report: &report)
            } catch {
                // Interrupted: the run stays as it is (its operation may still run at Shopify, where
                // `cancel` can still find it).
                if error is CancellationError { throw error }
                let code = ImportError.code(of: error)
                let message = "\(error)"
                try? await control.ledger { try $0.fail(runID, code: code, message: message) }
                throw error
            }
        }
    }

    func reconcile(resource: String, table: String, query q: QueryFile, prepared: PreparedQuery, runID: Int64, report: inout ImportReport)
        async throws -> Int
    {
        try await checkLock()
        let job = BulkJob(runID: runID, shopID: shop.id, client: client, session: control, progress: engine.progress, logger: engine.logger)
        let submittedAt = Date()
        let operation = try await job.submit(prepared.text, queryName: q.path)
        report.operationsSubmitted += 1
        let done = try await job.poll(operation, submittedAt: submittedAt)
        // The ids go into a temporary table in a transaction of their own, on a second session (the
        // control session keeps recording the run meanwhile).
        let shopID = shop.id
        return try await engine.withSession("import \(shop.name) reconcile") { load in
            // Only rows that existed when the export began can be judged: newer ones are not in it.
            let sink = ReconcileSink(
                table: table, connection: load.unsafeConnection.connection, expected: done.rootObjectCount, shopID: shopID, runID: runID,
                notAfter: submittedAt.addingTimeInterval(-60), resource: resource)
            if let url = done.url {
                let (result, _) = try await job.deliver(url: url, fileSize: done.fileSize, into: sink)
                return result.rows[table] ?? 0
            }
            // No file: Shopify found nothing, which is only consistent when it counted nothing.
            guard done.rootObjectCount == 0 else {
                throw ImportError(
                    code: "INCOMPLETE",
                    message: "the reconcile export of \(resource) has no result file but Shopify counted \(done.rootObjectCount)")
            }
            let box = UnsafeSink(sink: sink)
            try await load.run { _ in try box.sink.begin() }
            let result = try await load.run { _ in try box.sink.commit() }
            return result.rows[table] ?? 0
        }
    }

}

extension ImportError {
    /// The code recorded for an error in `sync_runs.error_code` (nil for errors without one).
    public static func code(of error: any Error) -> String? {
        switch error {
        case let e as ImportError: return e.code
        case let e as ShopifyError: return e.shopifyCode ?? e.code.rawValue
        case let e as LoadError: return e.code.rawValue
        case let e as ShopError: return e.code.rawValue
        case is CancellationError: return "INTERRUPTED"
        default: return nil
        }
    }
}
