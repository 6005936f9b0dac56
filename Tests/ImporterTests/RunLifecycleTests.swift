import Foundation
import Migrations
import Postgres
import TestSupport
import Testing

@testable import Importer

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
        .submitting: [
            .submitting: .to(.submitting), .accepted: .to(.submitted), .failed(failure): .failure(.retry(after: .seconds(1), attempt: 2)),
        ],
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
