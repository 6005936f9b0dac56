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
            ShopifyError(code: .invalidStoreName, message: "store name '\(input.prefix(100).visiblyEscaped)' \(why)")
        }
        // Checked before any case mapping: Unicode lower-casing turns the Kelvin sign (U+212A) into `k`
        // and would accept a name that is not the one given. Only A–Z are folded.
        let original = input.trimmingASCIIWhitespace()
        for scalar in original.unicodeScalars where !scalar.isASCII || scalar.value < 0x20 || scalar.value == 0x7F {
            throw reject(
                "contains '\(String(scalar).visiblyEscaped)' (U+\(String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 4))): only the letters a-z, digits and hyphens are allowed"
            )
        }
        var text = original.asciiLowercased()
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
        let lower = text.asciiLowercased()
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
    static func isAllowedTransport(_ url: String) -> Bool { transportProblem(url) == nil }

    /// Why `url` may not be fetched, or nil when it may: the scheme is matched case-insensitively
    /// (`HTTPS://` is https), and a plain `http://` URL must name a loopback host. User info
    /// (`http://127.0.0.1@example.invalid/`) is refused: the host is what follows the `@`.
    static func transportProblem(_ url: String) -> String? {
        guard let schemeEnd = url.range(of: "://") else { return "is not an absolute http(s) URL" }
        let scheme = url[..<schemeEnd.lowerBound].asciiLowercased()
        guard scheme == "https" || scheme == "http" else {
            return "uses the scheme '\(url[..<schemeEnd.lowerBound].prefix(20))': only https:// (and http:// for loopback) are allowed"
        }
        let rest = url[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") {
            let realHost = authority[authority.index(after: at)...]
            return
                "has user info before '@' (its host is '\(realHost.prefix(100))', not what precedes the '@'): give the URL without user info"
        }
        guard let host = host(of: scheme + "://" + authority) else { return "has no valid host" }
        if scheme == "http" && !isLoopback(host) {
            return "uses plain http:// for '\(host)': only 127.0.0.1, ::1 and localhost may be reached without TLS"
        }
        return nil
    }
}

extension ShopEndpoint {
    /// Checks a bulk result URL with the rule the client downloads by (`https://` anywhere, `http://`
    /// only on loopback, no user info); the error names the URL without its query string.
    public static func validateResultURL(_ url: String) throws(ShopifyError) {
        if let problem = URLParts.transportProblem(url) {
            throw ShopifyError(code: .insecureBaseURL, message: "the URL \(url.redactedURL.prefix(200)) \(problem)")
        }
    }
}

extension StringProtocol {
    /// Lower-cases A–Z only: no Unicode case mapping (the Kelvin sign K must not become `k`).
    func asciiLowercased() -> String {
        String(String.UnicodeScalarView(unicodeScalars.map { ("A"..."Z").contains($0) ? Unicode.Scalar($0.value + 32)! : $0 }))
    }
}
