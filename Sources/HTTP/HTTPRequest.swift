import Foundation

/// An HTTP method.
public struct HTTPMethod: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let get = HTTPMethod(rawValue: "GET")
    public static let post = HTTPMethod(rawValue: "POST")
    public static let head = HTTPMethod(rawValue: "HEAD")
    public static let put = HTTPMethod(rawValue: "PUT")
    public static let delete = HTTPMethod(rawValue: "DELETE")
    public var description: String { rawValue }
}

/// Timeouts for one request. Every request has a connect timeout and a low-speed guard, so a stalled
/// peer never hangs the tool.
public struct HTTPTimeouts: Sendable, Equatable {
    /// How long to wait for the TCP (and TLS) connection.
    public var connect: Duration
    /// A transfer slower than `lowSpeedBytesPerSecond` for `lowSpeedTime` is aborted as timed out.
    public var lowSpeedBytesPerSecond: Int
    public var lowSpeedTime: Duration
    /// An upper bound for the whole request; `nil` for none (large downloads).
    public var total: Duration?

    public init(
        connect: Duration = .seconds(15),
        lowSpeedBytesPerSecond: Int = 1,
        lowSpeedTime: Duration = .seconds(60),
        total: Duration? = nil
    ) {
        self.connect = connect
        self.lowSpeedBytesPerSecond = lowSpeedBytesPerSecond
        self.lowSpeedTime = lowSpeedTime
        self.total = total
    }
}

/// Which HTTP protocol version to ask for.
public enum HTTPVersionPreference: Sendable, Equatable {
    /// libcurl's default (HTTP/2 over TLS when the server offers it).
    case automatic
    /// HTTP/1.1 only: used for large downloads, where old libcurl HTTP/2 windows are slower.
    case http1_1
}

/// One HTTP request.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    public var url: String
    /// Header fields in order. Values may be secrets: they are never logged or put into errors.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?
    public var timeouts: HTTPTimeouts
    public var version: HTTPVersionPreference
    /// Whether to follow redirects (at most 5). Off by default: a request carrying credentials must
    /// never be forwarded to another host.
    public var followRedirects: Bool
    /// Whether to ask for compressed responses. Off for ranged downloads (a resumed gzip stream would
    /// be addressed by decoded offsets).
    public var acceptCompressed: Bool
    /// Set it to stop the transfer from another thread: libcurl's progress callback checks it, so a
    /// stalled transfer stops too. The request then throws `HTTPError.Code.canceled`.
    public var abort: TransferAbort?

    public init(
        method: HTTPMethod = .get,
        url: String,
        headers: [(name: String, value: String)] = [],
        body: [UInt8]? = nil,
        timeouts: HTTPTimeouts = HTTPTimeouts(),
        version: HTTPVersionPreference = .automatic,
        followRedirects: Bool = false,
        acceptCompressed: Bool = true
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeouts = timeouts
        self.version = version
        self.followRedirects = followRedirects
        self.acceptCompressed = acceptCompressed
    }
}

/// The status line and header fields of a response.
public struct HTTPResponseHead: Sendable, Equatable {
    public var status: Int
    public var headers: [HTTPHeaderField]

    public init(status: Int, headers: [HTTPHeaderField]) {
        self.status = status
        self.headers = headers
    }

    /// The first value of the named header field (case-insensitive), if present.
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name.lowercased() == lowered }?.value
    }
}

/// One response header field.
public struct HTTPHeaderField: Sendable, Equatable {
    public var name: String
    public var value: String
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A response whose body was collected in memory (small responses only: GraphQL calls, tokens).
public struct HTTPResponse: Sendable {
    public var head: HTTPResponseHead
    public var body: [UInt8]
    public var status: Int { head.status }

    public init(head: HTTPResponseHead, body: [UInt8]) {
        self.head = head
        self.body = body
    }
}

extension String {
    /// The URL without its query string and fragment: safe for logs and errors (signed URLs carry
    /// their signature in the query).
    package var redactedURL: String {
        var end = endIndex
        if let q = firstIndex(where: { $0 == "?" || $0 == "#" }) { end = q }
        return String(self[startIndex..<end])
    }
}

/// A flag that stops transfers when set (from any thread).
public final class TransferAbort: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    public init() {}
    public func set() {
        lock.lock()
        value = true
        lock.unlock()
    }
    public var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}
