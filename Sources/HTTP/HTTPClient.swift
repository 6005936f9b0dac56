import Blocking
internal import CCurl
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// An HTTP client on libcurl. Each call is blocking; the `async` variants run the transfer on the shared
/// `BlockingPool` so that callers on the cooperative pool never block it.
public struct HTTPClient: Sendable {
    public var logger: Logger
    /// Largest response body `execute` collects in memory.
    public var maxBufferedBody: Int

    public init(logger: Logger = Logger(label: "shopbulk.http"), maxBufferedBody: Int = 64 << 20) {
        self.logger = logger
        self.maxBufferedBody = maxBufferedBody
    }

    /// Sends `request` and streams the response body to `onBody` chunk by chunk, after `onHead` has seen
    /// the status and header fields. Returns the response head. An error thrown by a callback stops the
    /// transfer and is rethrown as `HTTPError.aborted` with the error in `underlying`.
    @discardableResult
    public func stream(
        _ request: HTTPRequest,
        onHead: @escaping (HTTPResponseHead) throws -> Void = { _ in },
        onBody: @escaping (UnsafeRawBufferPointer) throws -> Void
    ) throws(HTTPError) -> HTTPResponseHead {
        let easy = try CurlEasy(url: request.url)
        try configure(easy, for: request)
        let context = TransferContext(onHead: onHead, onBody: onBody)
        context.easy = easy
        let opaque = Unmanaged.passUnretained(context).toOpaque()
        try easy.setCallbacks(context: opaque)
        if let abort = request.abort {
            context.abort = abort
            try easy.setAbortCallback(context: opaque)
        }
        let started = ContinuousClock.now
        do {
            try withExtendedLifetime(context) { () throws(HTTPError) in try easy.perform() }
        } catch {
            if request.abort?.isSet == true {
                throw HTTPError(code: .canceled, message: "the transfer was canceled", url: request.url, status: context.head.status)
            }
            if let thrown = context.thrown {
                if let httpError = thrown as? HTTPError { throw httpError }
                throw HTTPError(
                    code: .aborted, curlCode: error.curlCode, message: "the body consumer stopped the transfer: \(thrown)",
                    url: request.url, status: context.head.status, underlying: thrown)
            }
            var e = error
            let status = context.head.status
            if status != 0 { e.status = status }
            throw e
        }
        // A response with no body never reached the write callback.
        if !context.headDelivered {
            do { try context.deliverHeadIfNeeded() } catch {
                if let httpError = error as? HTTPError { throw httpError }
                throw HTTPError(code: .aborted, message: "\(error)", url: request.url, status: context.head.status, underlying: error)
            }
        }
        let head = context.head
        logger.trace(
            "http request done",
            metadata: [
                "method": "\(request.method)", "url": "\(request.url.redactedURL)", "status": "\(head.status)",
                "ms":
                    "\((ContinuousClock.now - started).components.seconds * 1000 + (ContinuousClock.now - started).components.attoseconds / 1_000_000_000_000_000)",
            ])
        return head
    }

    /// Sends `request` and collects the whole body (for small responses).
    public func execute(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        var body: [UInt8] = []
        let limit = maxBufferedBody
        let url = request.url
        let collector = BodyCollector()
        let head = try stream(request) { chunk in
            if collector.bytes.count + chunk.count > limit {
                throw HTTPError(code: .protocolViolation, message: "response body exceeds \(limit) bytes", url: url)
            }
            collector.bytes.append(contentsOf: chunk)
        }
        body = collector.bytes
        return HTTPResponse(head: head, body: body)
    }

    /// `execute` on a thread of its own.
    public func execute(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse {
        let result: Result<HTTPResponse, HTTPError> = await runOnThread { () -> Result<HTTPResponse, HTTPError> in
            do throws(HTTPError) { return .success(try self.execute(request)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    private func configure(_ easy: CurlEasy, for request: HTTPRequest) throws(HTTPError) {
        try easy.set(CURLOPT_URL, string: request.url, "CURLOPT_URL")
        try easy.set(CURLOPT_PROTOCOLS_STR, string: "http,https", "CURLOPT_PROTOCOLS_STR")
        // A redirect may never downgrade an https request to plain http.
        let redirectProtocols = request.url.lowercased().hasPrefix("https://") ? "https" : "http,https"
        try easy.set(CURLOPT_REDIR_PROTOCOLS_STR, string: redirectProtocols, "CURLOPT_REDIR_PROTOCOLS_STR")
        try easy.set(CURLOPT_NOSIGNAL, 1, "CURLOPT_NOSIGNAL")
        // TLS verification is always on; there is deliberately no switch to turn it off.
        try easy.set(CURLOPT_SSL_VERIFYPEER, 1, "CURLOPT_SSL_VERIFYPEER")
        try easy.set(CURLOPT_SSL_VERIFYHOST, 2, "CURLOPT_SSL_VERIFYHOST")
        try easy.set(CURLOPT_CONNECTTIMEOUT_MS, Int(request.timeouts.connect.milliseconds), "CURLOPT_CONNECTTIMEOUT_MS")
        try easy.set(CURLOPT_LOW_SPEED_LIMIT, request.timeouts.lowSpeedBytesPerSecond, "CURLOPT_LOW_SPEED_LIMIT")
        try easy.set(CURLOPT_LOW_SPEED_TIME, max(1, Int(request.timeouts.lowSpeedTime.milliseconds / 1000)), "CURLOPT_LOW_SPEED_TIME")
        if let total = request.timeouts.total {
            try easy.set(CURLOPT_TIMEOUT_MS, Int(total.milliseconds), "CURLOPT_TIMEOUT_MS")
        }
        switch request.version {
        case .automatic: break
        case .http1_1: try easy.set(CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1), "CURLOPT_HTTP_VERSION")
        }
        if request.followRedirects {
            try easy.set(CURLOPT_FOLLOWLOCATION, 1, "CURLOPT_FOLLOWLOCATION")
            try easy.set(CURLOPT_MAXREDIRS, 5, "CURLOPT_MAXREDIRS")
        }
        if request.acceptCompressed {
            try easy.set(CURLOPT_ACCEPT_ENCODING, string: "", "CURLOPT_ACCEPT_ENCODING")
        }
        try easy.set(CURLOPT_USERAGENT, string: "shopbulk/0.1 (+libcurl)", "CURLOPT_USERAGENT")
        switch request.method {
        case .get: try easy.set(CURLOPT_HTTPGET, 1, "CURLOPT_HTTPGET")
        case .head: try easy.set(CURLOPT_NOBODY, 1, "CURLOPT_NOBODY")
        case .post: try easy.set(CURLOPT_POST, 1, "CURLOPT_POST")
        default: try easy.set(CURLOPT_CUSTOMREQUEST, string: request.method.rawValue, "CURLOPT_CUSTOMREQUEST")
        }
        if let body = request.body {
            try easy.setBody(body)
        } else if request.method == .post {
            try easy.setBody([])
        }
        // libcurl adds "Expect: 100-continue" to larger POSTs; Shopify does not need the round trip.
        try easy.setHeaders(request.headers + [(name: "Expect", value: "")])
    }
}

final class BodyCollector: @unchecked Sendable {
    var bytes: [UInt8] = []
}

extension Duration {
    var milliseconds: Int64 {
        let c = components
        return c.seconds * 1000 + c.attoseconds / 1_000_000_000_000_000
    }
}

/// Runs blocking work on the process's fixed blocking pool and resumes the caller when it is done.
public func runOnThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await BlockingPool.shared.run(work)
}
