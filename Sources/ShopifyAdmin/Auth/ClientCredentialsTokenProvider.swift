import HTTP
import Logging

/// Tokens from the client-credentials grant (`POST /admin/oauth/access_token`), kept in memory only,
/// renewed ahead of `expires_in` and once after a 401. Concurrent callers share one renewal.
public actor ClientCredentialsTokenProvider: AccessTokenProvider {
    public let endpoint: ShopEndpoint
    public let clientID: String
    private let clientSecret: Secret
    private let http: HTTPClient
    private let retry: RetryPolicy
    private let renewal: TokenRenewalPolicy
    private let timeouts: HTTPTimeouts
    private let logger: Logger
    private let origin = ContinuousClock.now

    private var current: (token: Secret, lifetime: TokenLifetime)?
    private var renewing: Task<Secret, any Error>?
    /// Tokens obtained so far (observability for tests and progress).
    public private(set) var grants = 0
    /// The `scope` of the last grant, e.g. `read_customers,read_orders`.
    public private(set) var grantedScope: String?

    public init(
        endpoint: ShopEndpoint, clientID: String, clientSecret: Secret, http: HTTPClient, retry: RetryPolicy = RetryPolicy(),
        renewal: TokenRenewalPolicy = TokenRenewalPolicy(), timeouts: HTTPTimeouts = HTTPTimeouts(total: .seconds(60)),
        logger: Logger
    ) {
        self.endpoint = endpoint
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.http = http
        self.retry = retry
        self.renewal = renewal
        self.timeouts = timeouts
        self.logger = logger
    }

    private func now() -> Double {
        let d = ContinuousClock.now - origin
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    public func token() async throws -> Secret {
        if let current, current.lifetime.decision(at: now(), policy: renewal) == .use { return current.token }
        if current != nil {
            logger.info("renewing the access token ahead of its expiry", metadata: ["store": "\(endpoint.store)"])
        }
        return try await renew()
    }

    public func tokenRejected(_ token: Secret) async throws -> Bool {
        if let current, current.token != token { return true }  // someone renewed it meanwhile
        logger.warning("the shop rejected the access token (401); requesting a new one", metadata: ["store": "\(endpoint.store)"])
        current = nil
        _ = try await renew()
        return true
    }

    private func renew() async throws -> Secret {
        if let renewing { return try await renewing.value }
        let task = Task { try await self.requestToken() }
        renewing = task
        defer { renewing = nil }
        return try await task.value
    }

    private func requestToken() async throws -> Secret {
        let body =
            "grant_type=client_credentials&client_id=\(FormEncoding.encode(clientID))&client_secret=\(FormEncoding.encode(clientSecret.exposedValue))"
        let request = HTTPRequest(
            method: .post, url: endpoint.accessTokenURL,
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")],
            body: Array(body.utf8), timeouts: timeouts)
        var state = RetryState(policy: retry)
        let started = ContinuousClock.now
        var lastTransportError: String?
        while true {
            try Task.checkCancellation()
            let failure: RetryableFailure
            let result = await http.executeResult(request)
            switch result {
            case .failure(let error):
                guard error.isTransient else {
                    throw ShopifyError(
                        code: .http, message: "the token request failed: \(error.message)", store: endpoint.store, status: error.status,
                        underlying: error)
                }
                failure = .connection
                lastTransportError = error.message
            case .success(let response):
                if response.status == 200 { return try accept(response) }
                if response.status == 429 || response.status >= 500 {
                    failure = .status(response.status, retryAfter: response.head.header("Retry-After").flatMap(RetryAfter.seconds))
                } else {
                    throw rejection(response)
                }
            }
            switch state.next(after: failure, elapsed: ContinuousClock.now - started) {
            case .retry(let wait):
                logger.warning(
                    "token request failed, retrying", metadata: ["store": "\(endpoint.store)", "wait_ms": "\(wait.milliseconds)"])
                try await Task.sleep(for: wait)
            case .giveUp(let reason):
                throw ShopifyError(
                    code: .retriesExhausted,
                    message: "could not obtain an access token: \(reason)\(lastTransportError.map { " (last error: \($0))" } ?? "")",
                    store: endpoint.store,
                    isRetryable: true)
            }
        }
    }

    private func accept(_ response: HTTPResponse) throws -> Secret {
        let json = try? JSONValue.parse(response.body)
        guard let token = json?["access_token"]?.string, !token.isEmpty else {
            throw ShopifyError(code: .badResponse, message: "the token response has no access_token", store: endpoint.store, status: 200)
        }
        let expiresIn = json?["expires_in"]?.double
        let secret = Secret(token)
        current = (secret, TokenLifetime(issuedAt: now(), expiresIn: expiresIn))
        grants += 1
        grantedScope = json?["scope"]?.string
        logger.info(
            "obtained an access token with the client-credentials grant",
            metadata: [
                "store": "\(endpoint.store)", "client_id": "\(clientID)", "expires_in": "\(expiresIn.map { String(Int($0)) } ?? "none")",
            ])
        return secret
    }

    private func rejection(_ response: HTTPResponse) -> ShopifyError {
        let json = try? JSONValue.parse(response.body)
        let code = json?["error"]?.string
        let description = json?["error_description"]?.string
        var message = "the client-credentials grant for client ID \(clientID) was rejected"
        if let code { message += ": \(code)" }
        if let description { message += " (\(description.prefix(300)))" }
        switch code {
        case "shop_not_permitted":
            message +=
                ". The client-credentials grant works only for a Dev Dashboard app of the same organization as the store; other apps need a legacy access token or another OAuth flow"
        case "invalid_client":
            message += ". Check the client secret reference (the app's client secret in the Dev Dashboard)"
        case "application_cannot_be_found", "invalid_request":
            message += ". Check the client ID (the app's settings in the Dev Dashboard) and that the app is installed on the store"
        default:
            break
        }
        return ShopifyError(code: .grantRejected, message: message, store: endpoint.store, status: response.status, shopifyCode: code)
    }
}

enum FormEncoding {
    /// `application/x-www-form-urlencoded` value encoding (unreserved characters kept).
    static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 15)]], as: UTF8.self)
            }
        }
        return out
    }
}

enum RetryAfter {
    /// `Retry-After` as seconds (the HTTP-date form is not used by Shopify and is ignored).
    static func seconds(_ value: String) -> Double? {
        guard let seconds = Double(value.trimmingASCIIWhitespace()), seconds >= 0, seconds.isFinite else { return nil }
        return min(seconds, 3600)
    }
}

extension Duration {
    var milliseconds: Int64 {
        let c = components
        return c.seconds * 1000 + c.attoseconds / 1_000_000_000_000_000
    }
    var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}

extension HTTPClient {
    /// `execute` with the typed error as a value.
    func executeResult(_ request: HTTPRequest) async -> Result<HTTPResponse, HTTPError> {
        do throws(HTTPError) { return .success(try await execute(request)) } catch { return .failure(error) }
    }
}
