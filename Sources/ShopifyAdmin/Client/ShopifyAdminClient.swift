import HTTP
import Logging

/// A client for one shop's GraphQL Admin API: authentication, throttling, retries, bulk operations
/// and result downloads. `Sendable`; share one per shop between concurrent tasks (they share the
/// throttle bucket and the token).
public struct ShopifyAdminClient: Sendable {
    /// Knobs with production defaults; tests make them fast.
    public struct Configuration: Sendable {
        public var retry: RetryPolicy
        public var polling: BulkPollingPolicy
        public var slotWait: BulkSlotWaitPolicy
        public var tokenRenewal: TokenRenewalPolicy
        public var download: DownloadPolicy
        /// Timeouts of GraphQL and token requests.
        public var requestTimeouts: HTTPTimeouts
        /// Cost assumed for a query whose cost is not yet known.
        public var defaultEstimatedCost: Double
        /// Whether to keep a local copy of the cost bucket and wait before sending (on by default).
        public var localThrottling: Bool

        public init(
            retry: RetryPolicy = RetryPolicy(), polling: BulkPollingPolicy = BulkPollingPolicy(),
            slotWait: BulkSlotWaitPolicy = BulkSlotWaitPolicy(), tokenRenewal: TokenRenewalPolicy = TokenRenewalPolicy(),
            download: DownloadPolicy = DownloadPolicy(),
            requestTimeouts: HTTPTimeouts = HTTPTimeouts(connect: .seconds(15), lowSpeedTime: .seconds(60), total: .seconds(120)),
            defaultEstimatedCost: Double = 10, localThrottling: Bool = true
        ) {
            self.retry = retry
            self.polling = polling
            self.slotWait = slotWait
            self.tokenRenewal = tokenRenewal
            self.download = download
            self.requestTimeouts = requestTimeouts
            self.defaultEstimatedCost = defaultEstimatedCost
            self.localThrottling = localThrottling
        }
    }

    public let endpoint: ShopEndpoint
    public let configuration: Configuration
    public let logger: Logger
    let credentials: ShopifyCredentials
    let tokens: any AccessTokenProvider
    let http: HTTPClient
    let throttle = ThrottleGate()
    let stats = ClientStatistics()

    /// - Parameters:
    ///   - endpoint: the validated shop endpoint.
    ///   - credentials: a legacy token or client credentials (resolve references with `ShopifyCredentials.token(_:)` …).
    ///   - logger: receives warnings (retries, throttling, deprecations) and info; never a secret.
    public init(endpoint: ShopEndpoint, credentials: ShopifyCredentials, configuration: Configuration = Configuration(), logger: Logger) {
        self.endpoint = endpoint
        self.credentials = credentials
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "store"] = "\(endpoint.store)"
        self.logger = logger
        let http = HTTPClient(logger: logger, maxBufferedBody: 16 << 20)
        self.http = http
        switch credentials {
        case .accessToken(let secret):
            tokens = StaticTokenProvider(secret)
        case .clientCredentials(let id, let secret):
            tokens = ClientCredentialsTokenProvider(
                endpoint: endpoint, clientID: id, clientSecret: secret, http: http, retry: configuration.retry,
                renewal: configuration.tokenRenewal, timeouts: configuration.requestTimeouts, logger: logger)
        }
    }

    /// Counters of what the client did (for progress output and tests).
    public var statistics: ClientStatistics.Snapshot { get async { await stats.snapshot } }

    // MARK: GraphQL

    /// Sends a GraphQL query or mutation with `variables`. Waits for the cost bucket, retries throttling,
    /// 429/503 (`Retry-After`), 5xx and connection errors within the retry policy, renews a rejected
    /// client-credentials token once.
    ///
    /// Returns the response when it has `data`, including any partial `errors` (e.g. redacted protected
    /// customer data); throws `ShopifyError` when there is no data (`graphQL`, `accessDenied`).
    public func graphQL(query: String, variables: [String: JSONValue] = [:], estimatedCost: Double? = nil) async throws
        -> GraphQLResponse
    {
        let response = try await send(query: query, variables: variables, estimatedCost: estimatedCost)
        if response.data == nil {
            throw graphQLError(response.errors)
        }
        return response
    }

    /// `graphQL`, but any `errors` entry is an error (for the client's own calls).
    func strictGraphQL(query: String, variables: [String: JSONValue] = [:], estimatedCost: Double? = nil, repeatable: Bool = true)
        async throws -> JSONValue
    {
        let response = try await send(query: query, variables: variables, estimatedCost: estimatedCost, repeatable: repeatable)
        guard response.errors.isEmpty, let data = response.data else { throw graphQLError(response.errors) }
        return data
    }

    func outcomeUnknown(_ what: String, status: Int?) -> ShopifyError {
        ShopifyError(
            code: .outcomeUnknown, message: "\(what); Shopify may have carried it out", store: endpoint.store, status: status,
            isRetryable: true)
    }

    func graphQLError(_ errors: [GraphQLError]) -> ShopifyError {
        if let denied = errors.first(where: { $0.code == "ACCESS_DENIED" }) {
            let scope = Self.scopeMentioned(in: denied.message)
            var message = "access denied: \(denied)"
            if let scope { message += "; \(scope) is missing: \(credentials.scopeHint)" }
            return ShopifyError(code: .accessDenied, message: message, store: endpoint.store, shopifyCode: "ACCESS_DENIED", scope: scope)
        }
        if errors.isEmpty {
            return ShopifyError(code: .badResponse, message: "the response has neither data nor errors", store: endpoint.store)
        }
        let text = errors.prefix(5).map(\.description).joined(separator: "; ")
        return ShopifyError(
            code: .graphQL, message: "GraphQL errors: \(text)", store: endpoint.store, shopifyCode: errors.first?.code,
            isRetryable: errors.contains { $0.code == "INTERNAL_SERVER_ERROR" })
    }

    static func scopeMentioned(in message: String) -> String? {
        for scope in ["read_all_orders", "read_customers", "read_orders"] where message.contains(scope) { return scope }
        return nil
    }

    /// The request loop: throttle, token, send, classify, retry. A request that is not `repeatable` (a
    /// mutation that creates something) is repeated only after failures that prove it was not carried
    /// out (no connection, 429, throttled); after any other it throws `outcomeUnknown`.
    func send(query: String, variables: [String: JSONValue], estimatedCost: Double?, repeatable: Bool = true) async throws
        -> GraphQLResponse
    {
        var payload: [String: JSONValue] = ["query": .string(query)]
        if !variables.isEmpty { payload["variables"] = .object(variables) }
        let body = JSONValue.object(payload).encoded()
        var retry = RetryState(policy: configuration.retry)
        let started = ContinuousClock.now
        var renewedAfter401 = false
        /// The last transport error, so that giving up says what kept failing.
        var lastTransportError: String?

        while true {
            try Task.checkCancellation()
            let token = try await tokens.token()
            var cost = 0.0
            if configuration.localThrottling {
                cost = await throttle.estimatedCost(of: query, default: estimatedCost ?? configuration.defaultEstimatedCost)
                let waited = try await throttle.acquire(cost: cost)
                if waited > 0.05 {
                    await stats.record(localWait: waited)
                    logger.debug("waited for the cost bucket", metadata: ["seconds": "\(waited)", "cost": "\(cost)"])
                }
            }
            let request = HTTPRequest(
                method: .post, url: endpoint.graphQLURL,
                headers: [
                    ("Content-Type", "application/json"), ("Accept", "application/json"),
                    ("X-Shopify-Access-Token", token.exposedValue),
                ],
                body: body, timeouts: configuration.requestTimeouts)
            await stats.record(request: ())
            let result = await http.executeResult(request)

            let failure: RetryableFailure
            var lastStatus: Int?
            switch result {
            case .failure(let error):
                if configuration.localThrottling { await throttle.finish(cost: cost, query: query, observed: nil) }
                guard error.isTransient else {
                    throw ShopifyError(
                        code: .http, message: "GraphQL request failed: \(error.message)", store: endpoint.store, status: error.status,
                        underlying: error)
                }
                if !repeatable && error.code != .connect {
                    throw outcomeUnknown("the request failed after it was sent (\(error.message))", status: error.status)
                }
                failure = .connection
                lastTransportError = error.message
                logger.warning("GraphQL request failed", metadata: ["error": "\(error.code)", "attempt": "\(retry.attempts)"])
            case .success(let response):
                lastStatus = response.status
                if let reason = response.head.header("X-Shopify-API-Deprecated-Reason"), await stats.firstDeprecation(reason) {
                    logger.warning(
                        "Shopify reports that requests use deprecated API fields (logged once per reason)",
                        metadata: ["reason": "\(reason)", "api_version": "\(endpoint.apiVersion)"])
                }
                var decoded: GraphQLResponse?
                if response.status == 200 { decoded = try? GraphQLResponse.decode(response.body) }
                if configuration.localThrottling { await throttle.finish(cost: cost, query: query, observed: decoded?.cost) }

                switch response.status {
                case 200:
                    guard let decoded else {
                        // A cut or garbled answer to a mutation: it may have been carried out.
                        if !repeatable { throw outcomeUnknown("the answer (\(response.body.count) bytes) is not valid JSON", status: 200) }
                        throw ShopifyError(
                            code: .badResponse, message: "the GraphQL response (\(response.body.count) bytes) is not valid JSON",
                            store: endpoint.store, status: 200)
                    }
                    if decoded.isThrottled {
                        let wait = Self.throttleWait(decoded.cost, fallbackCost: estimatedCost ?? configuration.defaultEstimatedCost)
                        await stats.record(throttled: ())
                        logger.warning("throttled by Shopify, waiting for the bucket", metadata: ["seconds": "\(wait)"])
                        failure = .throttled(wait: wait)
                    } else if decoded.data == nil, decoded.errors.contains(where: { $0.code == "INTERNAL_SERVER_ERROR" }) {
                        if !repeatable { throw outcomeUnknown("Shopify answered INTERNAL_SERVER_ERROR", status: 200) }
                        failure = .status(500, retryAfter: nil)
                        logger.warning("Shopify answered INTERNAL_SERVER_ERROR", metadata: ["attempt": "\(retry.attempts)"])
                    } else {
                        return decoded
                    }
                case 401:
                    await stats.record(unauthorized: ())
                    if !renewedAfter401, try await tokens.tokenRejected(token) {
                        renewedAfter401 = true
                        continue
                    }
                    throw ShopifyError(
                        code: .unauthorized,
                        message: unauthorizedMessage(), store: endpoint.store, status: 401)
                case 500...599 where !repeatable:
                    throw outcomeUnknown("Shopify answered HTTP \(response.status)", status: response.status)
                case 429, 500...599:
                    let retryAfter = response.head.header("Retry-After").flatMap(RetryAfter.seconds)
                    failure = .status(response.status, retryAfter: retryAfter)
                    logger.warning(
                        "Shopify answered an HTTP error, retrying",
                        metadata: [
                            "status": "\(response.status)", "retry_after": "\(retryAfter.map { "\($0)" } ?? "-")",
                            "attempt": "\(retry.attempts)",
                        ])
                default:
                    throw statusError(response)
                }
            }
            await stats.record(retry: ())
            switch retry.next(after: failure, elapsed: ContinuousClock.now - started) {
            case .retry(let wait):
                try await Task.sleep(for: wait)
            case .giveUp(let reason):
                if case .throttled = failure {
                    throw ShopifyError(code: .throttled, message: "throttled: \(reason)", store: endpoint.store, isRetryable: true)
                }
                throw ShopifyError(
                    code: .retriesExhausted,
                    message: "GraphQL request gave up: \(reason)\(lastTransportError.map { " (last error: \($0))" } ?? "")",
                    store: endpoint.store, status: lastStatus,
                    isRetryable: true)
            }
        }
    }

    /// Seconds until the requested cost fits again, from a throttled response's `throttleStatus`.
    static func throttleWait(_ cost: QueryCost?, fallbackCost: Double) -> Double {
        guard let status = cost?.throttleStatus, status.restoreRate > 0 else { return 1 }
        let needed = min(cost?.requestedQueryCost ?? fallbackCost, status.maximumAvailable)
        return max(0, needed - status.currentlyAvailable) / status.restoreRate
    }

    private func unauthorizedMessage() -> String {
        switch credentials {
        case .accessToken:
            return
                "the shop rejected the Admin API access token (401): check the token reference, that the app is still installed, and the store name"
        case .clientCredentials(let id, _):
            return
                "the shop rejected a freshly issued access token for client ID \(id) (401): check that the app is installed on this store"
        }
    }

    private func statusError(_ response: HTTPResponse) -> ShopifyError {
        let hint: String
        switch response.status {
        case 400: hint = "the request was malformed"
        case 402: hint = "the shop is frozen (payment required)"
        case 403: hint = "access forbidden (the shop may be marked fraudulent, or the app lacks access)"
        case 404: hint = "not found: check the store name and the API version \(endpoint.apiVersion)"
        case 423: hint = "the shop is locked (unavailable)"
        default: hint = "unexpected status"
        }
        return ShopifyError(code: .http, message: "GraphQL request refused: \(hint)", store: endpoint.store, status: response.status)
    }
}

/// What a client did: requests, retries, throttling. Shared by all copies of one client.
public actor ClientStatistics {
    public struct Snapshot: Sendable, Equatable {
        public var requests = 0
        public var retries = 0
        /// `THROTTLED` answers received.
        public var throttledResponses = 0
        /// 401 answers received.
        public var unauthorizedResponses = 0
        /// Seconds spent waiting for the local bucket before sending.
        public var localThrottleWait = 0.0
    }

    public private(set) var snapshot = Snapshot()
    func record(request: Void) { snapshot.requests += 1 }
    func record(retry: Void) { snapshot.retries += 1 }
    func record(throttled: Void) { snapshot.throttledResponses += 1 }
    func record(unauthorized: Void) { snapshot.unauthorizedResponses += 1 }
    func record(localWait: Double) { snapshot.localThrottleWait += localWait }
    private var deprecations: Set<String> = []
    /// Whether this deprecation reason is new (each is logged once per client).
    func firstDeprecation(_ reason: String) -> Bool { deprecations.insert(reason).inserted }
}
