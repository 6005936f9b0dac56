/// How hard a GraphQL (or token) request is retried: connection errors, 5xx, 429/503 (honouring
/// `Retry-After`), `THROTTLED`. Bounded both in attempts and in total time.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts for failures other than throttling, the first included.
    public var maxAttempts: Int
    /// Extra attempts allowed after `THROTTLED` answers.
    public var maxThrottledRetries: Int
    /// No retry starts after this much time since the first attempt.
    public var maxTotalTime: Duration
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    /// The backoff is drawn from `[base × (1 − jitter), base × (1 + jitter)]`.
    public var jitter: Double

    public init(
        maxAttempts: Int = 6, maxThrottledRetries: Int = 20, maxTotalTime: Duration = .seconds(300),
        initialBackoff: Duration = .seconds(1), maxBackoff: Duration = .seconds(30), jitter: Double = 0.25
    ) {
        self.maxAttempts = maxAttempts
        self.maxThrottledRetries = maxThrottledRetries
        self.maxTotalTime = maxTotalTime
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.jitter = jitter
    }
}

/// Why the last attempt failed, as far as retrying is concerned.
public enum RetryableFailure: Sendable, Equatable {
    /// Connection refused/reset, timeout, broken transfer.
    case connection
    /// A 5xx (or 429) status; `retryAfter` from the header, in seconds.
    case status(Int, retryAfter: Double?)
    /// `THROTTLED`: wait this many seconds for the bucket to refill.
    case throttled(wait: Double)
}

/// The retry decision for one request (state in, action out).
public struct RetryState: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        /// Wait this long, then try again.
        case retry(after: Duration)
        /// Stop: the budget is spent.
        case giveUp(reason: String)
    }

    public let policy: RetryPolicy
    public private(set) var attempts = 1
    public private(set) var throttledRetries = 0

    public init(policy: RetryPolicy) { self.policy = policy }

    /// Decides after a failed attempt. `elapsed` is the time since the first attempt; `random` is a
    /// number in 0…1 used for jitter (injectable for tests).
    public mutating func next(after failure: RetryableFailure, elapsed: Duration, random: Double = Double.random(in: 0...1))
        -> Action
    {
        var wait: Duration
        switch failure {
        case .throttled(let seconds):
            throttledRetries += 1
            guard throttledRetries <= policy.maxThrottledRetries else {
                return .giveUp(reason: "still throttled after \(policy.maxThrottledRetries) waits")
            }
            // A little slack so that the bucket has really refilled by the time the request lands.
            wait = .milliseconds(Int64((max(0, seconds) * 1000).rounded(.up)) + 50)
        case .connection, .status(_, nil):
            attempts += 1
            guard attempts <= policy.maxAttempts else {
                return .giveUp(reason: "failed \(policy.maxAttempts) times")
            }
            wait = backoff(retry: attempts - 1, random: random)
        case .status(_, let retryAfter?):
            attempts += 1
            guard attempts <= policy.maxAttempts else {
                return .giveUp(reason: "failed \(policy.maxAttempts) times")
            }
            // Shopify says how long: honour it (seconds), never less than a small floor.
            wait = .milliseconds(Int64((max(0.05, retryAfter) * 1000).rounded(.up)))
        }
        guard elapsed + wait <= policy.maxTotalTime else {
            return .giveUp(reason: "the retry budget of \(policy.maxTotalTime) would be exceeded")
        }
        return .retry(after: wait)
    }

    /// Jittered exponential backoff for retry `n` (1-based).
    func backoff(retry n: Int, random: Double) -> Duration {
        let base = policy.initialBackoff * (1 << min(n - 1, 20))
        let capped = min(base, policy.maxBackoff)
        let factor = 1 - policy.jitter + 2 * policy.jitter * min(max(random, 0), 1)
        return capped * factor
    }
}
