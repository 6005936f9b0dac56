import Foundation
import Migrations
import Postgres
import TestSupport
import Testing

@testable import BulkQueries
@testable import Importer
@testable import Loader

/// The window lifecycle and the failure policy, state by state, without I/O.
@Suite("Run lifecycle: a pure state machine")
struct RunLifecycleTests {
    static let policy = FailurePolicy(maxAttempts: 3, backoff: .seconds(1))
    static let window = QueryWindow(field: "created_at", start: Date(timeIntervalSince1970: 0), end: Date(timeIntervalSince1970: 86_400))
    static let failure = WindowLifecycle.Failure(code: "INTERNAL_SERVER_ERROR", retryable: true)
    static let events: [WindowLifecycle.Event] = [
        .submitting, .accepted, .polled, .completed(hasResult: true), .completed(hasResult: false), .downloadStarted,
        .committed(rejected: false), .committed(rejected: true), .loadFailed, .failed(failure),
    ]

    /// The valid transitions; every other (status, event) pair is invalid.
    static let expected: [RunStatus: [WindowLifecycle.Event: WindowLifecycle.Transition]] = [
        .planned: [.submitting: .to(.submitting)],
        // A submitting run may already exist at Shopify: it never fails into a successor, it is adopted or submitted.
        .submitting: [.submitting: .to(.submitting), .accepted: .to(.submitted)],
        .submitted: [
            .polled: .to(.running), .completed(hasResult: true): .to(.completed), .completed(hasResult: false): .to(.empty),
            .failed(failure): .failure(.retry(after: .seconds(1), attempt: 2)),
        ],
        .running: [
            .polled: .to(.running), .completed(hasResult: true): .to(.completed), .completed(hasResult: false): .to(.empty),
            .failed(failure): .failure(.retry(after: .seconds(1), attempt: 2)),
        ],
        .completed: [.downloadStarted: .to(.downloading), .failed(failure): .failure(.retry(after: .seconds(1), attempt: 2))],
        .downloading: [
            .downloadStarted: .to(.downloading), .committed(rejected: false): .to(.loaded), .committed(rejected: true): .to(.partial),
            .loadFailed: .to(.completed), .failed(failure): .failure(.retry(after: .seconds(1), attempt: 2)),
        ],
    ]

    @Test("every (status, event) pair: the valid ones lead where the diagram says, all others are invalid")
    func everyPair() {
        var checked = 0
        for status in RunStatus.allCases {
            for event in Self.events {
                let got = WindowLifecycle.transition(from: status, on: event, window: Self.window, attempt: 1, policy: Self.policy)
                let want = Self.expected[status]?[event] ?? .invalid
                #expect(got == want, "\(status) on \(event)")
                checked += 1
            }
        }
        #expect(checked == RunStatus.allCases.count * Self.events.count && checked > 100)
    }

    @Test("the action for every recorded status")
    func actions() {
        let now = Date(timeIntervalSince1970: 1_000_000)
        for status in RunStatus.allCases {
            let action = WindowLifecycle.action(
                status: status, operation: "gid://shopify/BulkOperation/1", resultURL: "https://x/y", urlExpiresAt: now + 60, now: now)
            switch status {
            case .planned: #expect(action == .submit)
            case .submitting: #expect(action == .adoptOrSubmit)
            case .submitted, .running: #expect(action == .poll(operation: "gid://shopify/BulkOperation/1"))
            case .completed, .downloading: #expect(action == .load(url: "https://x/y"))
            case .loading: #expect(action == .inconsistent("a window run cannot be a local file load"))
            default: #expect(action == .none, "\(status)")
            }
        }
        #expect(
            WindowLifecycle.action(status: .completed, operation: "o", resultURL: "https://x/y", urlExpiresAt: now - 1, now: now)
                == .expired)
        #expect(
            WindowLifecycle.action(status: .submitted, operation: nil, resultURL: nil, urlExpiresAt: nil, now: now)
                == .inconsistent("the run is submitted without an operation id"))
        #expect(
            WindowLifecycle.action(status: .completed, operation: "o", resultURL: nil, urlExpiresAt: nil, now: now)
                == .inconsistent("the run is completed without a result URL"))
    }

    @Test("failure policy: TIMEOUT splits, a window too short to split fails at once, retries back off and end")
    func failurePolicy() {
        let timeout = WindowLifecycle.Failure(code: "TIMEOUT", timedOut: true, retryable: true)
        guard case .split(let a, let b) = Self.policy.decide(timeout, window: Self.window, attempt: 1) else {
            Issue.record("a day-long window that timed out is split")
            return
        }
        #expect(a.start == Self.window.start && a.end == b.start && b.end == Self.window.end)
        // Too short to halve: not retried maxAttempts times (the same query would time out again).
        let short = QueryWindow(field: "created_at", start: Date(timeIntervalSince1970: 0), end: Date(timeIntervalSince1970: 900))
        guard case .fail(.failed, "TIMEOUT", let reason) = Self.policy.decide(timeout, window: short, attempt: 1) else {
            Issue.record("a short window that timed out fails")
            return
        }
        #expect(reason.contains("too short to split"))
        #expect(Self.policy.decide(Self.failure, window: Self.window, attempt: 1) == .retry(after: .seconds(1), attempt: 2))
        #expect(Self.policy.decide(Self.failure, window: Self.window, attempt: 2) == .retry(after: .seconds(2), attempt: 3))
        #expect(
            Self.policy.decide(Self.failure, window: Self.window, attempt: 3)
                == .fail(status: .failed, code: "INTERNAL_SERVER_ERROR", reason: "failed 3 times"))
        var canceled = Self.failure
        canceled.canceledByUser = true
        #expect(
            Self.policy.decide(canceled, window: Self.window, attempt: 1)
                == .fail(status: .canceled, code: "CANCELED_BY_USER", reason: "canceled with shopbulk cancel"))
        let permanent = WindowLifecycle.Failure(code: "ACCESS_DENIED")
        #expect(
            Self.policy.decide(permanent, window: Self.window, attempt: 1)
                == .fail(status: .failed, code: "ACCESS_DENIED", reason: "not retryable"))
    }

    @Test("status sets: disjoint where they must be, and together every status")
    func statusSets() {
        #expect(RunStatus.open.isDisjoint(with: RunStatus.terminal))
        #expect(RunStatus.open.union(RunStatus.terminal) == Set(RunStatus.allCases))
        #expect(RunStatus.done.isDisjoint(with: RunStatus.replaced) && RunStatus.done.isDisjoint(with: RunStatus.unsuccessful))
        #expect(RunStatus.atShopify.isSubset(of: RunStatus.open))
        #expect(RunStatus.resumable.isSubset(of: RunStatus.open) && !RunStatus.resumable.contains(.loading))
        #expect(RunStatus.blocksCompletion.isSuperset(of: RunStatus.open.union(RunStatus.unsuccessful)))
    }

    @Test(
        "the database's CHECK constraint and open-runs index name exactly the code's statuses",
        .enabled(if: TestEnvironment.databaseTestsEnabled))
    func sqlMatchesCode() throws {
        let db = try TestDatabase()
        let connection = try db.connect()
        try Migrator(directory: TestEnvironment.packageRoot + "/migrations").apply(on: connection)
        func quoted(_ text: String) -> Set<String> {
            let regex = try! NSRegularExpression(pattern: "'([a-z_]+)'")
            return Set(
                regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).map {
                    String(text[Range($0.range(at: 1), in: text)!])
                })
        }
        let check = try #require(
            try connection.query("SELECT pg_get_constraintdef(oid) AS d FROM pg_constraint WHERE conname = 'sync_runs_status_check'")
                .first?[
                    "d"
                ].string)
        #expect(quoted(check) == Set(RunStatus.allCases.map(\.rawValue)))
        let index = try #require(
            try connection.query("SELECT indexdef FROM pg_indexes WHERE indexname = 'sync_runs_open_idx'").first?[0].string)
        #expect(quoted(index) == Set(RunStatus.open.map(\.rawValue)))
        // An unknown status is refused by the database itself.
        #expect(throws: PostgresError.self) {
            try connection.execute(
                "INSERT INTO shops (name, store_domain, auth_method, token_ref) VALUES ('x', 'x.myshopify.com', 'token', 'env:X');"
                    + "INSERT INTO sync_runs (shop_id, kind, resource, query_name, query_hash, status) SELECT id, 'full', 'orders', 'o', 'h', 'loadingg' FROM shops"
            )
        }
    }
}

@Suite("Reconcile's completeness guard", .enabled(if: TestEnvironment.databaseTestsEnabled))
struct ReconcileGuardTests {
    @Test("fewer ids than Shopify counted: INCOMPLETE (kept as the run's code), nothing marked deleted")
    func incompleteExport() throws {
        let h = try LoaderHarness()
        try h.load([Lines.order(1), Lines.order(2), Lines.order(3)].joined(separator: "\n"))
        let ledger = RunLedger(connection: try h.db.connect())
        let runID = try ledger.create(.init(shopID: h.shop.id, kind: "reconcile", resource: "orders", queryName: "r", queryHash: "h"))
        let sink = ReconcileSink(
            table: "orders", connection: try h.db.connect(), expected: 3, shopID: h.shop.id, runID: runID, notAfter: Date(),
            resource: "orders")
        try sink.begin()
        try Array("{\"id\":\"gid://shopify/Order/1\"}\n".utf8).withUnsafeBytes { try sink.feed($0) }
        let error = #expect(throws: ImportError.self) { _ = try sink.commit() }
        #expect(error?.code == "INCOMPLETE")
        #expect(error.map { ImportError.code(of: $0) } == "INCOMPLETE")
        sink.abort()
        #expect(try h.count("SELECT count(*) FROM orders WHERE deleted_at IS NOT NULL") == 0)
    }
}

@Suite("Planners and scheduler")
struct PlannerAndSchedulerTests {
    static let query = try! QueryFile.load(path: TestEnvironment.packageRoot + "/queries/orders.graphql")

    @Test("a full import's plan: windows of the given days from the oldest record to one second past the snapshot, none overlapping")
    func fullPlan() {
        let oldest = Date(timeIntervalSince1970: 1_600_000_000)
        let snapshot = oldest.addingTimeInterval(95 * 86_400)
        let plan = FullImportPlanner.plan(
            shopID: 7, resource: "orders", query: Self.query, field: "created_at", oldest: oldest, snapshot: snapshot, days: 30)
        #expect(plan.parent.status == .running && plan.parent.parentRunID == nil && plan.parent.windowEnd == Timestamp.text(snapshot))
        #expect(plan.windows.count == 4)
        #expect(plan.windows.first?.windowStart == Timestamp.text(oldest))
        #expect(plan.windows.last?.windowEnd == Timestamp.text(snapshot.addingTimeInterval(1)))
        for (a, b) in zip(plan.windows, plan.windows.dropFirst()) { #expect(a.windowEnd == b.windowStart) }
        #expect(plan.windows.allSatisfy { $0.status == .planned && $0.kind == "full" && $0.shopID == 7 })
        // No record at all: one window from before Shopify existed covers whatever appears.
        let empty = FullImportPlanner.plan(
            shopID: 7, resource: "orders", query: Self.query, field: "created_at", oldest: nil, snapshot: snapshot, days: 30)
        #expect(empty.windows.count == 1)
        #expect(FullImportPlanner.searchField(root: "customers", windowField: "created_at") == "customer_date")
        #expect(FullImportPlanner.searchField(root: "orders", windowField: "created_at") == "created_at")
    }

    @Test("a delta's plan: from the mark minus the overlap to the snapshot, on updated_at")
    func deltaPlan() {
        let mark = Date(timeIntervalSince1970: 1_700_000_000)
        let plan = DeltaPlanner.plan(
            shopID: 3, resource: "orders", query: Self.query, mark: mark, overlap: 300, snapshot: mark.addingTimeInterval(3600))
        #expect(plan.window.windowStart == Timestamp.text(mark.addingTimeInterval(-300)))
        #expect(plan.window.windowEnd == Timestamp.text(mark.addingTimeInterval(3600)))
        #expect(plan.window.windowField == "updated_at" && plan.parent.status == .running && plan.window.status == .planned)
    }

    @Test("the work queue ends when empty and idle, hands successors to waiting workers, and stops at once")
    func workQueue() async {
        let queue = WorkQueue([1, 2])
        #expect(await queue.next() == 1)
        #expect(await queue.next() == 2)
        // A third worker waits: two runs are in flight and may add successors.
        async let waiting = queue.next()
        await queue.add(3)
        #expect(await waiting == 3)
        await queue.done()
        await queue.done()
        await queue.done()
        #expect(await queue.next() == nil)
        let stopped = WorkQueue([1, 2, 3])
        #expect(await stopped.next() == 1)
        await stopped.stop()
        #expect(await stopped.next() == nil)
    }

    @Test("the load gate lets one task through at a time and is left when the body throws")
    func gate() async throws {
        let gate = AsyncGate()
        struct Boom: Error {}
        await #expect(throws: Boom.self) { try await gate.with { throw Boom() } }
        let inside = Tally()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try await gate.with {
                        await inside.add {
                            $0.loaded += 1; $0.split = max($0.split, $0.loaded)
                        }
                        await Task.yield()
                        await inside.add { $0.loaded -= 1 }
                    }
                }
            }
            try await group.waitForAll()
        }
        let counts = await inside.snapshot()
        #expect(counts.split == 1 && counts.loaded == 0)
    }
}
