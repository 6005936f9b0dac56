/// When a token from the client-credentials grant is renewed: ahead of `expires_in`, at
/// `renewalFraction` of its life or `maximumMargin` before it ends, whichever comes later.
public struct TokenRenewalPolicy: Sendable, Equatable {
    public var renewalFraction: Double
    public var maximumMargin: Duration

    public init(renewalFraction: Double = 0.9, maximumMargin: Duration = .seconds(300)) {
        self.renewalFraction = renewalFraction
        self.maximumMargin = maximumMargin
    }
}

/// The life of one issued token (times in seconds on a monotonic scale): the renewal decision as a
/// value, tested without a clock.
public struct TokenLifetime: Sendable, Equatable {
    public enum Decision: Sendable, Equatable {
        case use
        case renew
    }

    public var issuedAt: Double
    /// `expires_in`; nil for a token that does not expire.
    public var expiresIn: Double?

    public init(issuedAt: Double, expiresIn: Double?) {
        self.issuedAt = issuedAt
        self.expiresIn = expiresIn
    }

    /// When to renew, or nil for never.
    public func renewalTime(policy: TokenRenewalPolicy) -> Double? {
        guard let expiresIn else { return nil }
        let maximumMargin = Double(policy.maximumMargin.components.seconds) + Double(policy.maximumMargin.components.attoseconds) / 1e18
        let margin = min(maximumMargin, expiresIn * (1 - policy.renewalFraction))
        return issuedAt + max(0, expiresIn - margin)
    }

    public func decision(at now: Double, policy: TokenRenewalPolicy) -> Decision {
        guard let at = renewalTime(policy: policy) else { return .use }
        return now >= at ? .renew : .use
    }
}
