/// The client's local copy of an app's cost bucket (Shopify's leaky bucket), so that a request is sent
/// only when its cost fits: the wait is "just long enough" at `restoreRate`, and costs of requests still
/// in flight are reserved so that concurrent callers never overdraw it.
///
/// A value type with the clock passed in (seconds on any monotonic scale): tested without I/O.
public struct ThrottleBucket: Sendable, Equatable {
    public private(set) var maximumAvailable: Double?
    public private(set) var restoreRate: Double?
    /// Points available at `updatedAt`, as last reported or estimated.
    public private(set) var available: Double = 0
    public private(set) var updatedAt: Double = 0
    /// Costs reserved by requests in flight.
    public private(set) var reserved: Double = 0

    public init() {}

    /// Whether Shopify has told us the bucket's size and rate yet.
    public var isKnown: Bool { maximumAvailable != nil && restoreRate != nil }

    /// Points free at `now`, after the reservations of requests in flight; nil while unknown.
    public func estimatedAvailable(at now: Double) -> Double? {
        guard let maximumAvailable, let restoreRate else { return nil }
        let refilled = min(maximumAvailable, available + max(0, now - updatedAt) * restoreRate)
        return refilled - reserved
    }

    /// Seconds to wait before a request costing `cost` fits (0: send now). While the bucket is unknown
    /// the answer is 0: the first response teaches it. A cost above the bucket's size is capped at the
    /// size (Shopify answers `MAX_COST_EXCEEDED` for it, which is not a throttle).
    public func waitTime(for cost: Double, at now: Double) -> Double {
        guard let maximumAvailable, let restoreRate, restoreRate > 0,
            let free = estimatedAvailable(at: now)
        else { return 0 }
        let needed = min(cost, maximumAvailable)
        if free >= needed { return 0 }
        return (needed - free) / restoreRate
    }

    /// Takes `cost` for a request about to be sent.
    public mutating func reserve(_ cost: Double, at now: Double) {
        roll(to: now)
        reserved += cost
    }

    /// Gives back a reservation (the request finished; `observe` brings the real figure).
    public mutating func release(_ cost: Double) {
        reserved = max(0, reserved - cost)
    }

    /// Adopts Shopify's figures from a response's `throttleStatus`.
    public mutating func observe(_ status: ThrottleStatus, at now: Double) {
        maximumAvailable = status.maximumAvailable
        restoreRate = status.restoreRate
        available = min(status.maximumAvailable, status.currentlyAvailable)
        updatedAt = now
    }

    private mutating func roll(to now: Double) {
        guard let maximumAvailable, let restoreRate, now > updatedAt else { return }
        available = min(maximumAvailable, available + (now - updatedAt) * restoreRate)
        updatedAt = now
    }
}

/// The bucket shared by every caller of one client (the engine polls several operations at once).
actor ThrottleGate {
    private var bucket = ThrottleBucket()
    /// Learned `requestedQueryCost` per query text.
    private var learnedCosts: [String: Double] = [:]
    private var probeInFlight = false
    private let start = ContinuousClock.now

    private func now() -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    func estimatedCost(of query: String, default fallback: Double) -> Double {
        learnedCosts[query] ?? fallback
    }

    /// Waits until `cost` fits, then reserves it. Returns the seconds waited.
    func acquire(cost: Double) async throws -> Double {
        var waited = 0.0
        while true {
            if !bucket.isKnown {
                // Until a response tells us the bucket, let one request through at a time.
                if !probeInFlight {
                    probeInFlight = true
                    bucket.reserve(cost, at: now())
                    return waited
                }
                try await Task.sleep(for: .milliseconds(20))
                waited += 0.02
                continue
            }
            let t = now()
            let wait = bucket.waitTime(for: cost, at: t)
            if wait <= 0 {
                bucket.reserve(cost, at: t)
                return waited
            }
            // Re-check at least every second while other requests are in flight (they may refund).
            let slice = bucket.reserved > 0 ? min(wait, 1.0) : wait
            try await Task.sleep(for: .milliseconds(Int64((slice * 1000).rounded(.up)) + 1))
            waited += slice
        }
    }

    /// Ends a request: releases its reservation and adopts the response's figures.
    func finish(cost: Double, query: String, observed: QueryCost?) {
        bucket.release(cost)
        probeInFlight = false
        if let requested = observed?.requestedQueryCost { learnedCosts[query] = requested }
        if let status = observed?.throttleStatus { bucket.observe(status, at: now()) }
    }

    var snapshot: ThrottleBucket { bucket }
}
