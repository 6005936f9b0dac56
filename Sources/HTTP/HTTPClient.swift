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
    ///
    /// With `followRedirects`, redirects are followed here, not by libcurl, and each target is checked
    /// first with `HTTPTransport.redirectProblem`: plain `http://` only to a loopback host, never from
    /// `https://` to `http://`.
    @discardableResult
    public func stream(
        _ request: HTTPRequest,
        onHead: @escaping (HTTPResponseHead) throws -> Void = { _ in },
        onBody: @escaping (UnsafeRawBufferPointer) throws -> Void
    ) throws(HTTPError) -> HTTPResponseHead {
        var current = request
        var hops = 0
        while true {
            let (head, redirect) = try streamOnce(current, onHead: onHead, onBody: onBody)
            guard let redirect else { return head }
            hops += 1
            guard hops <= 5 else {
                throw HTTPError(code: .redirectRefused, message: "more than 5 redirects", url: request.url, status: head.status)
            }
            if let problem = HTTPTransport.redirectProblem(from: current.url, to: redirect) {
                throw HTTPError(
                    code: .redirectRefused, message: "refused the redirect to \(redirect.redactedURL): \(problem)", url: current.url,
                    status: head.status)
            }
            logger.debug("following a redirect", metadata: ["from": "\(current.url.redactedURL)", "to": "\(redirect.redactedURL)"])
            if head.status == 303 && current.method != .head {
                current.method = .get
                current.body = nil
            }
            current.url = redirect
        }
    }

    /// One request; returns the head and, for a redirect that is to be followed, its target.
    private func streamOnce(
        _ request: HTTPRequest,
        onHead: @escaping (HTTPResponseHead) throws -> Void,
        onBody: @escaping (UnsafeRawBufferPointer) throws -> Void
    ) throws(HTTPError) -> (HTTPResponseHead, String?) {
        let easy = try CurlEasy(url: request.url)
        try configure(easy, for: request)
        let context = TransferContext(onHead: onHead, onBody: onBody)
        context.easy = easy
        context.followsRedirects = request.followRedirects
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
            if e.code == .tls { e.message = "TLS verification failed, so nothing was sent: \(e.message)" }
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
        if context.isRedirect {
            guard let target = easy.redirectURL else {
                throw HTTPError(
                    code: .protocolViolation, message: "a redirect without a usable Location", url: request.url, status: head.status)
            }
            return (head, target)
        }
        return (head, nil)
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
        // Redirects are followed by `stream`, which checks each target first.
        try easy.set(CURLOPT_FOLLOWLOCATION, 0, "CURLOPT_FOLLOWLOCATION")
        // A proxy never sees loopback traffic (the simulator, a local API base and its token): the
        // user's no_proxy list is kept, with the loopback hosts added.
        try easy.set(CURLOPT_NOPROXY, string: HTTPTransport.noProxyList(), "CURLOPT_NOPROXY")
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
