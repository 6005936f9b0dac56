/// An error of the Shopify Admin client. Its `description` names what failed and what to do about
/// it; it never contains a token, a client secret, a secret's value or a signed URL's signature.
public struct ShopifyError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as an extensible code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        // Configuration, rejected before any request.
        /// The store name does not follow Shopify's rules for a myshopify.com subdomain.
        public static let invalidStoreName = Code("invalid-store-name")
        /// An API base URL with plain `http://` for a host that is not a loopback address, or malformed.
        public static let insecureBaseURL = Code("insecure-base-url")
        /// The API version is not `YYYY-MM` (months 01, 04, 07, 10) or `unstable`.
        public static let badAPIVersion = Code("bad-api-version")
        /// A secret reference is malformed (neither `env:NAME` nor `file:PATH`).
        public static let invalidSecretReference = Code("invalid-secret-reference")
        /// A secret reference names a variable that is unset or empty, or a file that cannot be read.
        public static let missingSecret = Code("missing-secret")
        /// A secret file that others may read or change, that is not a regular file, or that belongs to another user.
        public static let unsafeSecretFile = Code("unsafe-secret-file")

        // Authentication and permissions.
        /// The shop answered 401 to the access token (after one renewal, for client credentials).
        public static let unauthorized = Code("unauthorized")
        /// The client-credentials grant was refused (`error` / `error_description` in context).
        public static let grantRejected = Code("grant-rejected")
        /// The app lacks an access scope the import needs.
        public static let missingScope = Code("missing-scope")
        /// Shopify refused access to a field or object (`ACCESS_DENIED`).
        public static let accessDenied = Code("access-denied")

        // Calls.
        /// Throttled for longer than the retry policy allows.
        public static let throttled = Code("throttled")
        /// The response carried top-level GraphQL `errors`.
        public static let graphQL = Code("graphql")
        /// A mutation answered with `userErrors`.
        public static let userError = Code("user-error")
        /// An HTTP-level failure (connection, unexpected status) after retries.
        public static let http = Code("http")
        /// The response could not be understood.
        public static let badResponse = Code("bad-response")
        /// Retries were exhausted within the attempt or time budget.
        public static let retriesExhausted = Code("retries-exhausted")
        /// A request that changes something failed in a way that may have come after Shopify carried it
        /// out (a timeout or a broken connection after it was sent, a 5xx): repeating it blindly could
        /// do it twice, so the caller finds out first.
        public static let outcomeUnknown = Code("outcome-unknown")

        // Bulk operations.
        /// No free bulk-operation slot appeared within the waiting budget.
        public static let noBulkSlot = Code("no-bulk-slot")
        /// The bulk operation ended `FAILED` (`INTERNAL_SERVER_ERROR`, `TIMEOUT`, or no code).
        public static let operationFailed = Code("operation-failed")
        /// The bulk operation was canceled (by Shopify or by a cancel request).
        public static let operationCanceled = Code("operation-canceled")
        /// The operation's result URL has expired (status `EXPIRED`, or the storage host refused it).
        public static let expired = Code("expired")
        /// The shop does not know the operation (wrong id, or another app's operation).
        public static let operationNotFound = Code("operation-not-found")
        /// The result download failed.
        public static let download = Code("download")
    }

    public var code: Code
    /// What happened and what to do, free of secrets.
    public var message: String
    /// The store (`halo`), when known.
    public var store: String?
    /// The HTTP status, when one was involved.
    public var status: Int?
    /// Shopify's error code: a GraphQL `extensions.code`, a user-error code, an operation `errorCode`,
    /// or an OAuth `error`.
    public var shopifyCode: String?
    /// The access scope involved (`missingScope`, `accessDenied`).
    public var scope: String?
    /// The query file's name, for bulk submissions.
    public var queryName: String?
    /// The bulk operation, for errors about one (its `partialDataUrl` may hold salvageable data).
    public var operation: BulkOperation?
    /// Whether running the same thing again later may succeed.
    public var isRetryable: Bool
    /// The error this one wraps (an `HTTPError`), if any.
    public var underlying: (any Error & Sendable)?

    public init(
        code: Code, message: String, store: String? = nil, status: Int? = nil, shopifyCode: String? = nil,
        scope: String? = nil, queryName: String? = nil, operation: BulkOperation? = nil, isRetryable: Bool = false,
        underlying: (any Error & Sendable)? = nil
    ) {
        self.code = code
        self.message = message
        self.store = store
        self.status = status
        self.shopifyCode = shopifyCode
        self.scope = scope
        self.queryName = queryName
        self.operation = operation
        self.isRetryable = isRetryable
        self.underlying = underlying
    }

    /// `partialDataUrl` of the failed operation, if Shopify kept partial data.
    public var partialDataURL: String? { operation?.partialDataURL }

    public var description: String {
        var text = "Shopify \(code)"
        if let store { text += " (\(store))" }
        text += ": \(message)"
        if let status { text += " [HTTP \(status)]" }
        return text
    }
}
