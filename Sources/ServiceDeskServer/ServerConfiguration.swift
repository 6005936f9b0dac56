import Foundation

/// What `shopbulk serve` was told: where to listen, which database, who may frame the panel.
public struct ServerConfiguration: Sendable {
    /// Host (an IP address or name) and port; port 0 picks a free one (printed on start).
    public var host: String
    public var port: Int
    public var databaseURL: String
    public var migrationsDirectory: String
    /// Origins allowed to frame the panel (`frame-ancestors`); empty: none.
    public var frameAncestors: [String]
    /// The scheme, host and port that panel links start with (default: `http://` and the listen address).
    public var publicURL: String?
    /// Database connections for requests: a fixed, small number.
    public var databaseConnections: Int
    /// The machine's cores, 2 to 8: a lookup is a few short index reads, so the cores, not
    /// connections, bound the rate; more connections only add threads and backends that preempt each
    /// other, and the slowest requests wait longer (scripts/bench-serve on 2 cores, 8 concurrent
    /// requests, one invocation after another: p99 29 ms with 2 connections, 34 ms with 4; in an
    /// earlier pair 4 gave 22-28 ms and 8 gave 39-41 ms).
    public static let defaultDatabaseConnections = max(2, min(8, ProcessInfo.processInfo.activeProcessorCount))
    /// Requests that may wait for a connection before the server answers 503.
    public var maximumWaiting: Int
    /// An import older than this is `stale` in `GET /v1/shops`.
    public var staleAfterSeconds: Int
    /// The longest life of a panel link (`ttl_seconds` in `POST /v1/panel-links`).
    public var maximumLinkSeconds: Int
    /// How long a verified API key, and a shop's row, is trusted before it is read again (so a
    /// revocation, a shop's changed `customers_as`, or its removal takes effect within this time).
    public var cacheSeconds: Double

    public init(
        host: String = "127.0.0.1", port: Int = 8080, databaseURL: String, migrationsDirectory: String, frameAncestors: [String] = [],
        publicURL: String? = nil, databaseConnections: Int = defaultDatabaseConnections, maximumWaiting: Int = 1024,
        staleAfterSeconds: Int = 86_400,
        maximumLinkSeconds: Int = 3_600, cacheSeconds: Double = 1
    ) {
        self.host = host
        self.port = port
        self.databaseURL = databaseURL
        self.migrationsDirectory = migrationsDirectory
        self.frameAncestors = frameAncestors
        self.publicURL = publicURL
        self.databaseConnections = databaseConnections
        self.maximumWaiting = maximumWaiting
        self.staleAfterSeconds = staleAfterSeconds
        self.maximumLinkSeconds = maximumLinkSeconds
        self.cacheSeconds = cacheSeconds
    }

    /// Parses `ADDR:PORT`, `[v6]:PORT` or `:PORT` (127.0.0.1).
    public static func parseListen(_ text: String) throws -> (host: String, port: Int) {
        var host: Substring
        var portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw ServerConfigurationError("--listen \(text): expected [IPv6]:PORT")
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw ServerConfigurationError("--listen \(text): expected ADDR:PORT") }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        if host.isEmpty { host = "127.0.0.1" }
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw ServerConfigurationError("--listen \(text): the port must be a number in 0...65535")
        }
        return (String(host), port)
    }

    /// Checks an origin for `frame-ancestors`: `https://host[:port]`, `http://host[:port]`, a
    /// `https://*.example.com` wildcard, or `'self'`. Nothing that could end the directive.
    public static func validateOrigin(_ origin: String) throws {
        if origin == "'self'" { return }
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:*[]")
        guard origin.hasPrefix("https://") || origin.hasPrefix("http://"),
            let rest = origin.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false).last, !rest.isEmpty,
            origin.split(separator: "/", omittingEmptySubsequences: false).count == 3,
            rest.unicodeScalars.allSatisfy(allowed.contains)
        else {
            throw ServerConfigurationError(
                "--frame-ancestors \(origin): expected an origin like https://desk.example.com (scheme, host, optional port; no path)")
        }
    }
}

public struct ServerConfigurationError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
