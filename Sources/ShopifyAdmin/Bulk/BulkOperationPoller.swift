/// How often a running bulk operation is polled.
public struct BulkPollingPolicy: Sendable, Equatable {
    /// The first interval (a small job finishes in seconds).
    public var initialInterval: Duration
    /// The longest interval (a job that runs for hours is polled about twice a minute).
    public var maximumInterval: Duration
    /// The interval grows with the operation's age: `age × ageFraction`, within the bounds above.
    public var ageFraction: Double
    /// Polls that may fail in a row (after the client's own retries) before waiting is given up.
    public var maxConsecutiveFailures: Int
    /// Polls that may return a status this client does not know before it gives up.
    public var maxUnknownStatusPolls: Int

    public init(
        initialInterval: Duration = .seconds(1), maximumInterval: Duration = .seconds(30), ageFraction: Double = 0.1,
        maxConsecutiveFailures: Int = 5, maxUnknownStatusPolls: Int = 60
    ) {
        self.initialInterval = initialInterval
        self.maximumInterval = maximumInterval
        self.ageFraction = ageFraction
        self.maxConsecutiveFailures = maxConsecutiveFailures
        self.maxUnknownStatusPolls = maxUnknownStatusPolls
    }
}

/// The polling of one bulk operation as a state machine: feed it what happened, do what it says.
///
/// ```swift
/// var poller = BulkOperationPoller(operationID: id, policy: policy, now: clock())
/// var action = poller.start()
/// while true {
///     switch action {
///     case .poll: action = poller.observed(try await fetch(id), now: clock())  // or pollFailed(_:now:)
///     case .wait(let d): try await Task.sleep(for: d); action = .poll
///     case .completed(let op): return op
///     case .failed(let error): throw error
///     }
/// }
/// ```
public struct BulkOperationPoller: Sendable {
    public enum Action: Sendable {
        /// Ask Shopify for the operation now.
        case poll
        /// Wait, then poll.
        case wait(Duration)
        /// `COMPLETED`. `url == nil` means the query matched nothing.
        case completed(BulkOperation)
        /// The operation ended without a result, or polling cannot go on. The error says whether
        /// resubmitting may help (`isRetryable`) and carries the operation (`partialDataURL`).
        case failed(ShopifyError)
    }

    public let operationID: String
    public let policy: BulkPollingPolicy
    public let store: String?
    private let startedAt: Double
    private let initialAge: Double
    /// The last report.
    public private(set) var last: BulkOperation?
    public private(set) var polls = 0
    private var consecutiveFailures = 0
    private var unknownStatusPolls = 0

    /// - Parameters:
    ///   - now: the current time in seconds on any monotonic scale (the same for every call).
    ///   - initialAge: how old the operation already is (resuming a job submitted earlier).
    public init(
        operationID: String, policy: BulkPollingPolicy = BulkPollingPolicy(), now: Double, initialAge: Double = 0, store: String? = nil
    ) {
        self.operationID = operationID
        self.policy = policy
        self.startedAt = now
        self.initialAge = max(0, initialAge)
        self.store = store
    }

    /// The first action: poll at once.
    public func start() -> Action { .poll }

    /// The wait before the next poll at `now`.
    public func interval(at now: Double) -> Duration {
        let age = initialAge + max(0, now - startedAt)
        let proposed = Duration.milliseconds(Int64(age * policy.ageFraction * 1000))
        return min(max(proposed, policy.initialInterval), policy.maximumInterval)
    }

    /// A poll answered; `nil` when Shopify does not know the operation.
    public mutating func observed(_ operation: BulkOperation?, now: Double) -> Action {
        polls += 1
        consecutiveFailures = 0
        guard let operation else {
            return .failed(
                ShopifyError(
                    code: .operationNotFound,
                    message:
                        "bulk operation \(operationID) does not exist for this app and shop (operations are visible only to the app that started them)",
                    store: store))
        }
        last = operation
        let id = operation.id
        switch operation.status {
        case .created, .running, .canceling:
            unknownStatusPolls = 0
            return .wait(interval(at: now))
        case .completed:
            return .completed(operation)
        case .failed:
            return .failed(Self.failure(of: operation, store: store))
        case .canceled:
            var message = "bulk operation \(id) was canceled (Shopify cancels stalled operations itself); resubmit the query"
            if operation.partialDataURL != nil { message += "; partial data is available at partialDataUrl" }
            return .failed(
                ShopifyError(
                    code: .operationCanceled, message: message, store: store, shopifyCode: "CANCELED", operation: operation,
                    isRetryable: true))
        case .expired:
            return .failed(
                ShopifyError(
                    code: .expired,
                    message:
                        "bulk operation \(id) has EXPIRED: its result URL stopped working 7 days after the operation ended; resubmit the query",
                    store: store, shopifyCode: "EXPIRED", operation: operation, isRetryable: true))
        default:
            unknownStatusPolls += 1
            guard unknownStatusPolls <= policy.maxUnknownStatusPolls else {
                return .failed(
                    ShopifyError(
                        code: .badResponse,
                        message:
                            "bulk operation \(id) stayed in status \(operation.status), which this client does not know, for \(unknownStatusPolls) polls",
                        store: store, operation: operation))
            }
            return .wait(policy.maximumInterval)
        }
    }

    /// A poll failed after the client's own retries.
    public mutating func pollFailed(_ error: ShopifyError, now: Double) -> Action {
        polls += 1
        guard error.isRetryable else { return .failed(error) }
        consecutiveFailures += 1
        guard consecutiveFailures <= policy.maxConsecutiveFailures else { return .failed(error) }
        return .wait(interval(at: now))
    }

    /// The error for a `FAILED` operation, by `errorCode`.
    static func failure(of operation: BulkOperation, store: String?) -> ShopifyError {
        let id = operation.id
        let partial = operation.partialDataURL != nil ? "; partial data is available at partialDataUrl" : ""
        switch operation.errorCode {
        case .accessDenied?:
            return ShopifyError(
                code: .accessDenied,
                message:
                    "bulk operation \(id) failed with ACCESS_DENIED: the app may not read a field the query selects. Check its access scopes (read_customers, read_orders; read_all_orders for orders older than 60 days) and its protected customer data access, then run the query as a normal query to see which field is refused",
                store: store, shopifyCode: "ACCESS_DENIED", operation: operation, isRetryable: false)
        case .internalServerError?:
            return ShopifyError(
                code: .operationFailed,
                message: "bulk operation \(id) failed with INTERNAL_SERVER_ERROR (often transient): resubmit\(partial)",
                store: store, shopifyCode: "INTERNAL_SERVER_ERROR", operation: operation, isRetryable: true)
        case .timeout?:
            return ShopifyError(
                code: .operationFailed,
                message: "bulk operation \(id) failed with TIMEOUT: resubmit with a smaller window or fewer fields\(partial)",
                store: store, shopifyCode: "TIMEOUT", operation: operation, isRetryable: true)
        case nil:
            return ShopifyError(
                code: .operationFailed,
                message: "bulk operation \(id) FAILED without an error code (reruns usually succeed): resubmit\(partial)",
                store: store, operation: operation, isRetryable: true)
        case let other?:
            return ShopifyError(
                code: .operationFailed, message: "bulk operation \(id) FAILED with \(other)\(partial)", store: store,
                shopifyCode: other.rawValue, operation: operation, isRetryable: false)
        }
    }
}
