import HTTP
import Logging
import ShopifyAdmin

extension Shop {
    /// The shop's validated Admin API endpoint (store, pinned version, base URL).
    public func endpoint() throws(ShopifyError) -> ShopEndpoint {
        try ShopEndpoint(store: storeDomain, apiVersion: apiVersion, apiBase: apiBase)
    }

    /// Reads the shop's secrets from their references. A missing variable or file throws
    /// `missingSecret` naming the reference, never a value.
    public func credentials(environment: [String: String]? = nil) throws(ShopifyError) -> ShopifyCredentials {
        switch authMethod {
        case .token:
            guard let tokenRef else { throw ShopifyError(code: .missingSecret, message: "shop '\(name)' has no token reference") }
            return try .token(try SecretReference(parsing: tokenRef), environment: environment)
        case .clientCredentials:
            guard let clientID, let clientSecretRef else {
                throw ShopifyError(code: .missingSecret, message: "shop '\(name)' has no client ID or client secret reference")
            }
            return try .clientCredentials(
                clientID: clientID, secret: try SecretReference(parsing: clientSecretRef), environment: environment)
        }
    }

    /// A client for this shop.
    public func makeClient(
        configuration: ShopifyAdminClient.Configuration = .init(), environment: [String: String]? = nil, logger: Logger
    ) throws(ShopifyError) -> ShopifyAdminClient {
        ShopifyAdminClient(
            endpoint: try endpoint(), credentials: try credentials(environment: environment), configuration: configuration, logger: logger)
    }

    /// Connects to the shop and checks that the app holds `read_customers` and `read_orders`
    /// (`shopbulk shop add` / `edit`). Throws `ShopifyError` (`missingScope` names the scope; also
    /// `missingSecret`, `unauthorized`, `grantRejected`, `http` …); returns the granted scopes and
    /// warnings (no `read_all_orders`: only the last 60 days of orders are visible).
    ///
    /// Retries are kept short: this is an interactive check, not an import.
    public func verifyAccess(environment: [String: String]? = nil, logger: Logger) async throws -> ShopVerification {
        var configuration = ShopifyAdminClient.Configuration()
        configuration.retry = RetryPolicy(
            maxAttempts: 3, maxThrottledRetries: 5, maxTotalTime: .seconds(30), initialBackoff: .milliseconds(500), maxBackoff: .seconds(5))
        configuration.requestTimeouts = .init(connect: .seconds(10), lowSpeedTime: .seconds(20), total: .seconds(30))
        let client = try makeClient(configuration: configuration, environment: environment, logger: logger)
        let report = try await client.checkScopes()
        return ShopVerification(endpoint: client.endpoint.description, grantedScopes: report.granted, warnings: report.warnings)
    }
}

/// What a successful connection check found.
public struct ShopVerification: Sendable, Equatable {
    /// Where the check went: `halo.myshopify.com (API 2026-01, https://halo.myshopify.com)`.
    public var endpoint: String
    public var grantedScopes: [String]
    /// E.g. no `read_all_orders`.
    public var warnings: [String]
}
