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
        var logger = self.logger
        logger[metadataKey: "shop"] = "\(shop.name)"
        return ShopifyAdminClient(
            endpoint: try shop.endpoint(), credentials: try shop.credentials(), configuration: configuration, logger: logger)
    }
}
