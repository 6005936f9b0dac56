import BulkQueries
import Foundation

/// The life of one window run as a pure value state machine: the recorded status in, what to do
/// next out (`action`), and the status an event leads to (`transition`). No I/O: the engine executes
/// the actions and records the transitions in the ledger; tests walk every (status, event) pair.
///
/// ```
/// planned ─► submitting ─► submitted ─► running ─► completed ─► downloading ─► loaded | partial
///                │              │            │          │  └──► empty (no result file)
///                │              └────────────┴──────────┴─► failure ─► superseded (TIMEOUT: two halves)
///                └ (crash) adopt the operation by its query text     ├► retried (transient: a successor)
///                                                                    └► failed | canceled
/// ```
enum WindowLifecycle {
    /// What the engine does with a window in a given state.
    enum Action: Equatable, Sendable {
        /// Submit the query.
        case submit
        /// A crash may have come after Shopify accepted the operation: find it by its query text
        /// (adopt it) or submit.
        case adoptOrSubmit
        /// Poll the operation until it ends.
        case poll(operation: String)
        /// Download and load the result.
        case load(url: String)
        /// The result URL expired before it was loaded: a failure (retried with a new operation).
        case expired
        /// Nothing: the window is finished (or replaced).
        case none
        /// The record contradicts itself (e.g. submitted without an operation id): stop with this.
        case inconsistent(String)
    }

    /// The action for a recorded window.
    static func action(
        status: RunStatus, operation: String?, resultURL: String?, urlExpiresAt: Date?, now: Date
    ) -> Action {
        switch status {
        case .planned: return .submit
        case .submitting: return .adoptOrSubmit
        case .submitted, .running:
            guard let operation else { return .inconsistent("the run is \(status.rawValue) without an operation id") }
            return .poll(operation: operation)
        case .completed, .downloading:
            if let urlExpiresAt, urlExpiresAt <= now { return .expired }
            guard let resultURL else { return .inconsistent("the run is \(status.rawValue) without a result URL") }
            return .load(url: resultURL)
        case .loading: return .inconsistent("a window run cannot be a local file load")
        case .loaded, .partial, .empty, .superseded, .retried, .failed, .canceled, .expired: return .none
        }
    }

    /// Something that happened to a window.
    enum Event: Hashable, Sendable {
        /// The submission is about to be sent (recorded first: a crash then leads to adoption).
        case submitting
        /// Shopify accepted the operation (or it was adopted).
        case accepted
        /// A poll found the operation created or running.
        case polled
        /// The operation completed, with a result file or none.
        case completed(hasResult: Bool)
        /// The download and load began.
        case downloadStarted
        /// The load committed, with or without rejected lines.
        case committed(rejected: Bool)
        /// The load failed (rolled back): the next run downloads again.
        case loadFailed
        /// The operation failed, was canceled or expired at Shopify, or its result URL expired.
        case failed(Failure)
    }

    /// An operation's failure as the failure policy needs it.
    struct Failure: Hashable, Sendable {
        var code: String
        /// Shopify's `TIMEOUT`: the window is too big to export in time.
        var timedOut = false
        /// Worth a new operation (Shopify-side error, a cancel we did not ask for, an expired URL).
        var retryable = false
        /// `shopbulk cancel` canceled it.
        var canceledByUser = false
    }

    /// Where an event leads.
    enum Transition: Equatable, Sendable {
        /// The window's new status.
        case to(RunStatus)
        /// A failure: what the failure policy decided.
        case failure(FailurePolicy.Decision)
        /// The event cannot happen in this status (a bug): stop with it.
        case invalid
    }

    /// The transition of `event` from `status`; failures go through `policy` with the window's window
    /// and attempt.
    static func transition(
        from status: RunStatus, on event: Event, window: QueryWindow?, attempt: Int, policy: FailurePolicy
    ) -> Transition {
        switch (status, event) {
        case (.planned, .submitting), (.submitting, .submitting): return .to(.submitting)
        case (.submitting, .accepted): return .to(.submitted)
        case (.submitted, .polled), (.running, .polled): return .to(.running)
        case (.submitted, .completed(let hasResult)), (.running, .completed(let hasResult)):
            return .to(hasResult ? .completed : .empty)
        case (.completed, .downloadStarted), (.downloading, .downloadStarted): return .to(.downloading)
        case (.downloading, .committed(let rejected)): return .to(rejected ? .partial : .loaded)
        case (.downloading, .loadFailed): return .to(.completed)
        case (.submitted, .failed(let f)), (.running, .failed(let f)), (.completed, .failed(let f)),
            (.downloading, .failed(let f)):
            return .failure(policy.decide(f, window: window, attempt: attempt))
        default: return .invalid
        }
    }
}

/// What a failed operation leads to: halves for a TIMEOUT, a new attempt for transient failures
/// (with exponential backoff), an error for the rest. Pure.
struct FailurePolicy: Sendable, Equatable {
    var maxAttempts: Int
    var backoff: Duration
    /// Windows shorter than twice this are not split further.
    var minimumWindow: TimeInterval = 600

    enum Decision: Equatable, Sendable {
        /// Replace the window with these two halves (it becomes superseded).
        case split(QueryWindow, QueryWindow)
        /// Wait, then replace it with attempt `attempt` (it becomes retried).
        case retry(after: Duration, attempt: Int)
        /// End the import with an error; the window becomes `status` with `code`.
        case fail(status: RunStatus, code: String, reason: String)
    }

    func decide(_ failure: WindowLifecycle.Failure, window: QueryWindow?, attempt: Int) -> Decision {
        if failure.canceledByUser {
            return .fail(status: .canceled, code: "CANCELED_BY_USER", reason: "canceled with shopbulk cancel")
        }
        if failure.timedOut {
            if let window, let (a, b) = WindowPlanner.halve(window, minimum: minimumWindow) { return .split(a, b) }
            // Halving further will not help and retrying the same query times out again.
            return .fail(
                status: .failed, code: failure.code,
                reason:
                    "the window timed out at Shopify and is too short to split further; make the query smaller (fewer fields or no line items)"
            )
        }
        guard failure.retryable, attempt < maxAttempts else {
            return .fail(
                status: .failed, code: failure.code,
                reason: failure.retryable ? "failed \(attempt) times" : "not retryable")
        }
        return .retry(after: backoff * (1 << min(attempt - 1, 5)), attempt: attempt + 1)
    }
}
