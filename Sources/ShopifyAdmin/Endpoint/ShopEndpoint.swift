/// Where a shop's Admin API lives: the validated store name, the pinned API version and the base URL
/// (`https://{store}.myshopify.com`, or an explicit override for the simulator and tests).
///
/// Every check happens in the initialiser, before any request is made.
public struct ShopEndpoint: Hashable, Sendable, CustomStringConvertible {
    /// The store's myshopify subdomain: `halo` for `halo.myshopify.com`.
    public let store: String
    public let apiVersion: APIVersion
    /// Scheme, host and optional port and path prefix, without a trailing slash.
    public let baseURL: String

    /// - Parameters:
    ///   - store: `halo`, `Halo`, `halo.myshopify.com` or `https://halo.myshopify.com/`.
    ///   - apiVersion: `YYYY-MM` or `unstable`; `nil` for `APIVersion.default`.
    ///   - apiBase: an override of `https://{store}.myshopify.com`. `https://` is accepted for any host;
    ///     plain `http://` only for `127.0.0.1`, `::1` and `localhost`.
    public init(store: String, apiVersion: String? = nil, apiBase: String? = nil) throws(ShopifyError) {
        let name = try Self.normalizeStoreName(store)
        let version = try apiVersion.map { (text) throws(ShopifyError) in try APIVersion(text) } ?? .default
        self.init(
            validatedStore: name, apiVersion: version, baseURL: try apiBase.map(Self.validateBaseURL) ?? "https://\(name).myshopify.com")
    }

    public init(store: String, apiVersion: APIVersion, apiBase: String? = nil) throws(ShopifyError) {
        let name = try Self.normalizeStoreName(store)
        self.init(
            validatedStore: name, apiVersion: apiVersion, baseURL: try apiBase.map(Self.validateBaseURL) ?? "https://\(name).myshopify.com")
    }

    private init(validatedStore: String, apiVersion: APIVersion, baseURL: String) {
        self.store = validatedStore
        self.apiVersion = apiVersion
        self.baseURL = baseURL
    }

    /// `{base}/admin/api/{version}/graphql.json`
    public var graphQLURL: String { "\(baseURL)/admin/api/\(apiVersion)/graphql.json" }
    /// `{base}/admin/oauth/access_token` (client-credentials grant).
    public var accessTokenURL: String { "\(baseURL)/admin/oauth/access_token" }
    /// `halo.myshopify.com`
    public var storeDomain: String { "\(store).myshopify.com" }

    public var description: String { "\(storeDomain) (API \(apiVersion), \(baseURL))" }

    // MARK: validation

    /// Normalises `Halo`, `halo.myshopify.com`, `https://halo.myshopify.com/` to `halo` and checks
    /// Shopify's rules for the subdomain: lowercase letters, digits and hyphens, starting and ending with a
    /// letter or digit, at most 63 characters.
    public static func normalizeStoreName(_ input: String) throws(ShopifyError) -> String {
        func reject(_ why: String) -> ShopifyError {
            ShopifyError(code: .invalidStoreName, message: "store name '\(input.prefix(100))' \(why)")
        }
        var text = input.trimmingASCIIWhitespace().lowercased()
        guard !text.isEmpty else { throw reject("is empty: give the myshopify.com subdomain, e.g. 'halo' for halo.myshopify.com") }
        for scheme in ["https://", "http://"] where text.hasPrefix(scheme) {
            text.removeFirst(scheme.count)
        }
        while text.hasSuffix("/") { text.removeLast() }
        if text.hasSuffix(".myshopify.com") {
            text.removeLast(".myshopify.com".count)
        } else if text.contains(".") {
            throw reject("is not a myshopify.com store: give the store's myshopify.com name (Settings → Domains), not a custom domain")
        }
        guard !text.isEmpty else { throw reject("has no subdomain before .myshopify.com") }
        guard text.count <= 63 else { throw reject("is longer than 63 characters") }
        for scalar in text.unicodeScalars {
            let ok = ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "-"
            guard ok else {
                throw reject("contains '\(scalar)': only lowercase letters, digits and hyphens are allowed")
            }
        }
        guard text.first != "-" else { throw reject("must start with a letter or digit") }
        guard text.last != "-" else { throw reject("must end with a letter or digit") }
        return text
    }

    /// Checks an API base URL override and returns it without a trailing slash.
    public static func validateBaseURL(_ input: String) throws(ShopifyError) -> String {
        func reject(_ why: String) -> ShopifyError {
            ShopifyError(code: .insecureBaseURL, message: "API base URL '\(input.redactedURL.prefix(200))' \(why)")
        }
        let text = input.trimmingASCIIWhitespace()
        let lower = text.lowercased()
        let isHTTPS: Bool
        if lower.hasPrefix("https://") {
            isHTTPS = true
        } else if lower.hasPrefix("http://") {
            isHTTPS = false
        } else {
            throw reject("must start with https:// (or http:// for a loopback address)")
        }
        guard let host = URLParts.host(of: text) else {
            throw reject("has no valid host (user info, query strings and fragments are not allowed)")
        }
        if !isHTTPS && !URLParts.isLoopback(host) {
            throw reject("uses plain http:// for '\(host)': only 127.0.0.1, ::1 and localhost may be reached without TLS")
        }
        var result = text
        while result.hasSuffix("/") { result.removeLast() }
        return result
    }
}

/// Minimal URL inspection for the checks above (no Foundation `URL`, whose parsing is lenient).
enum URLParts {
    /// The host of `scheme://host[:port][/path]`, lowercased, or nil when malformed (user info, query,
    /// fragment, empty host, bad port).
    static func host(of url: String) -> String? {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let rest = url[schemeEnd.upperBound...]
        if rest.contains("?") || rest.contains("#") { return nil }
        let authority = rest.prefix { $0 != "/" }
        if authority.contains("@") || authority.isEmpty { return nil }
        var host: Substring
        var portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portPart = after.dropFirst()
            }
        } else {
            let pieces = authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            host = pieces[0]
            if pieces.count == 2 { portPart = pieces[1] }
        }
        if let portPart {
            guard let port = Int(portPart), (1...65535).contains(port) else { return nil }
        }
        guard !host.isEmpty else { return nil }
        for c in host.unicodeScalars {
            let ok = ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "-" || c == "." || c == ":"
            if !ok { return nil }
        }
        return host.lowercased()
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "127.0.0.1" || host == "::1" || host == "localhost"
    }

    /// Whether `url` may be fetched: `https://` anywhere, `http://` only on loopback.
    static func isAllowedTransport(_ url: String) -> Bool {
        let lower = url.lowercased()
        if lower.hasPrefix("https://") { return true }
        guard lower.hasPrefix("http://") else { return false }
        let withoutQuery = url.redactedURL
        return host(of: withoutQuery).map(isLoopback) ?? false
    }
}
