/// An error of the HTTP module. Its description names the URL without its query string (signed links
/// keep their signature there) and never a header value or body.
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as an extensible code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        /// libcurl could not be initialised or an option was refused.
        public static let setup = Code("setup")
        /// DNS, connect or TLS failure.
        public static let connect = Code("connect")
        /// The connect or low-speed timeout fired.
        public static let timeout = Code("timeout")
        /// The connection broke while sending or receiving.
        public static let transfer = Code("transfer")
        /// The body callback threw; `underlying` holds its error.
        public static let aborted = Code("aborted")
        /// The caller canceled the transfer (`HTTPRequest.abort`); never retried.
        public static let canceled = Code("canceled")
        /// The server answered with an unexpected status.
        public static let status = Code("status")
        /// The URL was malformed or used an unsupported scheme.
        public static let badURL = Code("bad-url")
        /// The response could not be interpreted (e.g. wrong Content-Range).
        public static let protocolViolation = Code("protocol")
        /// Retries were exhausted.
        public static let retriesExhausted = Code("retries-exhausted")
        public var description: String { rawValue }
    }

    public var code: Code
    /// libcurl's `CURLcode`, when the error came from libcurl.
    public var curlCode: Int?
    /// A human-readable message (libcurl's error buffer, or ours).
    public var message: String
    /// The URL, without its query string.
    public var url: String
    /// The HTTP status, when there was one.
    public var status: Int?
    /// The error thrown by a body callback, for `.aborted`.
    public var underlying: (any Error)?

    public init(
        code: Code, curlCode: Int? = nil, message: String, url: String, status: Int? = nil,
        underlying: (any Error)? = nil
    ) {
        self.code = code
        self.curlCode = curlCode
        self.message = message
        self.url = url.redactedURL
        self.status = status
        self.underlying = underlying
    }

    /// Whether retrying the same request may succeed (connection problems, timeouts, broken transfers).
    public var isTransient: Bool {
        switch code {
        case .connect, .timeout, .transfer: return true
        case .status: return status.map { $0 == 429 || $0 >= 500 } ?? false
        default: return false
        }
    }

    public var description: String {
        var text = "HTTP \(code) error for \(url): \(message)"
        if let curlCode { text += " (curl code \(curlCode))" }
        if let status { text += " (status \(status))" }
        return text
    }
}
