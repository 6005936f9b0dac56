import Logging
import ShopifyAdmin

/// Builds the Admin API client for a stored shop: endpoint, version and credentials from its secret
/// references (resolved now, never stored or logged).
public struct ShopConnector: Sendable {
    public var configuration: ShopifyAdminClient.Configuration
    public var logger: Logger

    public init(configuration: ShopifyAdminClient.Configuration = ShopifyAdminClient.Configuration(), logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    public func client(for shop: Shop) throws -> ShopifyAdminClient {
        let endpoint = try ShopEndpoint(store: shop.storeDomain, apiVersion: shop.apiVersion, apiBase: shop.apiBase)
        let credentials: ShopifyCredentials
        switch shop.authMethod {
        case .token:
            guard let ref = shop.tokenRef else { throw ShopError(message: "shop \(shop.name) has no access-token reference") }
            credentials = try ShopifyCredentials.token(SecretReference(parsing: ref))
        case .clientCredentials:
            guard let id = shop.clientID, let ref = shop.clientSecretRef else {
                throw ShopError(message: "shop \(shop.name) needs a client ID and a client-secret reference")
            }
            credentials = try ShopifyCredentials.clientCredentials(clientID: id, secret: SecretReference(parsing: ref))
        }
        var logger = self.logger
        logger[metadataKey: "shop"] = "\(shop.name)"
        return ShopifyAdminClient(endpoint: endpoint, credentials: credentials, configuration: configuration, logger: logger)
    }
}
