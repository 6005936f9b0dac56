/// How the client authenticates to a shop.
public enum ShopifyCredentials: Sendable, CustomStringConvertible {
    /// A legacy custom app's Admin API access token, sent as `X-Shopify-Access-Token`.
    case accessToken(Secret)
    /// A Dev Dashboard app: tokens come from the client-credentials grant and live in memory only.
    case clientCredentials(clientID: String, clientSecret: Secret)

    /// Resolves the secret references of a stored shop (`env:NAME` / `file:PATH`).
    public static func token(_ reference: SecretReference, environment: [String: String]? = nil) throws(ShopifyError) -> ShopifyCredentials
    {
        .accessToken(try reference.resolve(environment: environment))
    }

    public static func clientCredentials(clientID: String, secret reference: SecretReference, environment: [String: String]? = nil)
        throws(ShopifyError) -> ShopifyCredentials
    {
        guard !clientID.trimmingASCIIWhitespace().isEmpty else {
            throw ShopifyError(code: .missingSecret, message: "the client ID is empty")
        }
        return .clientCredentials(
            clientID: clientID.trimmingASCIIWhitespace(), clientSecret: try reference.resolve(environment: environment))
    }

    public var description: String {
        switch self {
        case .accessToken: return "access token <redacted>"
        case .clientCredentials(let id, _): return "client credentials (client ID \(id), secret <redacted>)"
        }
    }

    /// Where a missing scope is added, for error messages.
    var scopeHint: String {
        switch self {
        case .accessToken:
            return
                "add it to the custom app's Admin API access scopes (Shopify admin → Settings → Apps and sales channels → Develop apps → the app → Configuration), save, and reinstall the app"
        case .clientCredentials:
            return
                "add it to the app's access scopes in its configuration in the Dev Dashboard, release a new app version, and approve the update on the store"
        }
    }
}

/// Supplies the access token for each request and reacts to a rejected one.
public protocol AccessTokenProvider: Sendable {
    /// The token to send with the next request.
    func token() async throws -> Secret
    /// The shop answered 401 to `token`. Returns true when a fresh token is now available and one
    /// retry may succeed; false when nothing can be done.
    func tokenRejected(_ token: Secret) async throws -> Bool
}

/// A fixed legacy token.
public struct StaticTokenProvider: AccessTokenProvider {
    let secret: Secret
    public init(_ secret: Secret) { self.secret = secret }
    public func token() async throws -> Secret { secret }
    public func tokenRejected(_ token: Secret) async throws -> Bool { false }
}
