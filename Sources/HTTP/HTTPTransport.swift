#if canImport(Glibc)
    import Glibc
#endif

/// The transport rule of every request: `https://` to any host, plain `http://` only to a loopback
/// host (`127.0.0.1`, `::1`, `localhost`), never from `https://` down to `http://`. Schemes are
/// compared case-insensitively, and a URL with user info (`http://127.0.0.1@example.invalid/`) is
/// judged by its real host, the one after the `@`.
public enum HTTPTransport {
    /// The loopback host names plain http may reach.
    public static let loopbackHosts: Set<String> = ["127.0.0.1", "::1", "localhost"]

    /// Scheme (lower-cased) and host (lower-cased, without brackets) of an absolute URL.
    public static func schemeAndHost(_ url: String) -> (scheme: String, host: String, hasUserInfo: Bool)? {
        guard let schemeEnd = url.firstRange(of: "://") else { return nil }
        let scheme = String(url[..<schemeEnd.lowerBound]).asciiLowercasedForTransport()
        var authority = url[schemeEnd.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        var hasUserInfo = false
        if let at = authority.lastIndex(of: "@") {
            hasUserInfo = true
            authority = authority[authority.index(after: at)...]
        }
        var host: Substring
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
        } else {
            host = authority.prefix { $0 != ":" }
        }
        guard !host.isEmpty else { return nil }
        return (scheme, String(host).asciiLowercasedForTransport(), hasUserInfo)
    }

    /// Why `url` may not be requested, or nil.
    public static func problem(_ url: String) -> String? {
        guard let parts = schemeAndHost(url) else { return "it is not an absolute http(s) URL" }
        switch parts.scheme {
        case "https": return nil
        case "http":
            return loopbackHosts.contains(parts.host)
                ? nil : "plain http:// is allowed only to 127.0.0.1, ::1 and localhost, not to '\(parts.host)'"
        default: return "only https:// (and http:// to loopback) are allowed"
        }
    }

    /// Why a redirect from `from` to `to` may not be followed, or nil.
    public static func redirectProblem(from: String, to: String) -> String? {
        if let problem = problem(to) { return problem }
        if schemeAndHost(from)?.scheme == "https" && schemeAndHost(to)?.scheme != "https" {
            return "a redirect may not go from https:// to plain http://"
        }
        return nil
    }

    /// The `no_proxy` list for libcurl: the user's (`no_proxy` / `NO_PROXY`) plus the loopback hosts.
    static func noProxyList() -> String {
        let user = (getenv("no_proxy") ?? getenv("NO_PROXY")).map { String(cString: $0) } ?? ""
        let loopback = "localhost,127.0.0.1,::1"
        let trimmed = user.trimmingCharacters(in: " ,")
        if trimmed == "*" { return "*" }
        return trimmed.isEmpty ? loopback : trimmed + "," + loopback
    }
}

extension String {
    /// A–Z to a–z only, with no Unicode case mapping.
    func asciiLowercasedForTransport() -> String {
        String(String.UnicodeScalarView(unicodeScalars.map { ("A"..."Z").contains($0) ? Unicode.Scalar($0.value + 32)! : $0 }))
    }
}
