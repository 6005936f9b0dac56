/// One entry of `bulkOperationRunQuery`'s `userErrors`.
public struct BulkUserError: Sendable, Hashable, CustomStringConvertible {
    /// `BulkOperationUserErrorCode`, open-ended (Shopify adds values).
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The query failed bulk validation.
        public static let invalid = Code(rawValue: "INVALID")
        /// All bulk-operation slots are taken; try later.
        public static let limitReached = Code(rawValue: "LIMIT_REACHED")
        /// Another bulk query of this app is running (one at a time before 2026-01).
        public static let operationInProgress = Code(rawValue: "OPERATION_IN_PROGRESS")
        public var description: String { rawValue }
    }

    public var field: [String]
    public var message: String
    /// nil before API 2025-01 (the field did not exist) or when Shopify sends none.
    public var code: Code?

    public init(field: [String] = [], message: String, code: Code? = nil) {
        self.field = field
        self.message = message
        self.code = code
    }

    /// The code, or for versions without codes, what the message says.
    public var effectiveCode: Code? {
        if let code { return code }
        let lower = message.lowercased()
        if lower.contains("already in progress") { return .operationInProgress }
        if lower.contains("limit reached") || lower.contains("limit_reached") { return .limitReached }
        return nil
    }

    /// Whether the rejection is about a busy slot rather than the query.
    public var isSlotBusy: Bool { effectiveCode == .operationInProgress || effectiveCode == .limitReached }

    public var description: String {
        var text = message
        if let code { text = "\(code): " + text }
        if !field.isEmpty { text += " (field \(field.joined(separator: ".")))" }
        return text
    }
}

/// How long a submission waits for a free bulk-operation slot (another run, or another process of the
/// same app, holds it). Operations this tool did not start are never cancelled to make room.
public struct BulkSlotWaitPolicy: Sendable, Equatable {
    public var initialWait: Duration
    public var maximumWait: Duration
    /// Give up after waiting this long in total.
    public var maxTotalWait: Duration
    public var jitter: Double

    public init(
        initialWait: Duration = .seconds(5), maximumWait: Duration = .seconds(60), maxTotalWait: Duration = .seconds(2 * 3600),
        jitter: Double = 0.2
    ) {
        self.initialWait = initialWait
        self.maximumWait = maximumWait
        self.maxTotalWait = maxTotalWait
        self.jitter = jitter
    }
}

/// The decision after `bulkOperationRunQuery` answered with `userErrors` (state in, action out).
public struct BulkSubmitState: Sendable {
    public enum Action: Sendable {
        /// Wait this long for a slot, then submit again.
        case waitForSlot(Duration, because: BulkUserError)
        /// Give up with this error.
        case fail(ShopifyError)
    }

    public let policy: BulkSlotWaitPolicy
    public let queryName: String?
    public let store: String?
    public private(set) var waits = 0
    public private(set) var waited: Duration = .zero

    public init(policy: BulkSlotWaitPolicy = BulkSlotWaitPolicy(), queryName: String?, store: String? = nil) {
        self.policy = policy
        self.queryName = queryName
        self.store = store
    }

    /// Decides after a rejected submission. `random` in 0…1 drives the jitter.
    public mutating func next(after userErrors: [BulkUserError], random: Double = Double.random(in: 0...1)) -> Action {
        let name = queryName.map { "query \($0)" } ?? "the bulk query"
        guard !userErrors.isEmpty else {
            return .fail(
                ShopifyError(
                    code: .badResponse, message: "bulkOperationRunQuery returned neither an operation nor userErrors for \(name)",
                    store: store, queryName: queryName))
        }
        // A problem with the query itself wins over a busy slot.
        if let bad = userErrors.first(where: { !$0.isSlotBusy }) {
            let all = userErrors.filter { !$0.isSlotBusy }.map(\.message).joined(separator: "; ")
            let label = bad.effectiveCode?.rawValue ?? "rejected"
            return .fail(
                ShopifyError(
                    code: .userError, message: "Shopify rejected \(name) (\(label)): \(all)", store: store,
                    shopifyCode: bad.effectiveCode?.rawValue, queryName: queryName))
        }
        let busy = userErrors[0]
        let base = policy.initialWait * (1 << min(waits, 20))
        let capped = min(base, policy.maximumWait)
        let wait = capped * (1 - policy.jitter + 2 * policy.jitter * min(max(random, 0), 1))
        guard waited + wait <= policy.maxTotalWait else {
            return .fail(
                ShopifyError(
                    code: .noBulkSlot,
                    message:
                        "no bulk operation slot became free within \(policy.maxTotalWait) for \(name) (\(busy.effectiveCode?.rawValue ?? "busy"): \(busy.message)); operations this tool did not start are never cancelled, so wait for them or cancel them yourself",
                    store: store, shopifyCode: busy.effectiveCode?.rawValue, queryName: queryName, isRetryable: true))
        }
        waits += 1
        waited += wait
        return .waitForSlot(wait, because: busy)
    }
}
