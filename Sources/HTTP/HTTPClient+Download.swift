#if canImport(Glibc)
    import Glibc
#endif

/// How hard a resumable download tries before giving up.
public struct DownloadPolicy: Sendable, Equatable {
    /// Consecutive failed attempts (without a single new byte) after which the download fails.
    public var maxAttemptsWithoutProgress: Int
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    public var timeouts: HTTPTimeouts

    public init(
        maxAttemptsWithoutProgress: Int = 6,
        initialBackoff: Duration = .milliseconds(250),
        maxBackoff: Duration = .seconds(30),
        timeouts: HTTPTimeouts = HTTPTimeouts(connect: .seconds(20), lowSpeedBytesPerSecond: 1024, lowSpeedTime: .seconds(60))
    ) {
        self.maxAttemptsWithoutProgress = maxAttemptsWithoutProgress
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.timeouts = timeouts
    }
}

/// Where a download stands, reported after every chunk.
public struct DownloadProgress: Sendable, Equatable {
    /// Bytes handed to the consumer so far, counting from byte 0 of the file.
    public var bytesDelivered: Int64
    /// The file's size, once a response has told it.
    public var totalBytes: Int64?
    /// 1 for the first request; grows with every resume.
    public var attempt: Int
}

/// The outcome of a finished download.
public struct DownloadSummary: Sendable, Equatable {
    public var bytesDelivered: Int64
    public var totalBytes: Int64?
    /// Requests made, the first included.
    public var attempts: Int
    /// Offsets at which a `Range` request resumed the transfer.
    public var resumedAt: [Int64]
    /// How often the server ignored `Range` and the transfer restarted from byte 0 (already delivered
    /// bytes were skipped, not delivered twice).
    public var restarts: Int
}

extension HTTPClient {
    /// Downloads `url` from byte `offset` on, handing every byte to `onChunk` exactly once and in order.
    ///
    /// A dropped connection or a timeout resumes with `Range: bytes=N-` from the last byte delivered
    /// (a `206` must start exactly there). A server that ignores `Range` (`200`) is read again from the
    /// start and the bytes already delivered are skipped. If the file's `ETag` changes between attempts
    /// the download fails rather than splice two files. No credentials are sent: pass only what the
    /// (pre-signed) URL needs in `headers`.
    public func download(
        url: String,
        from offset: Int64 = 0,
        headers: [(name: String, value: String)] = [],
        policy: DownloadPolicy = DownloadPolicy(),
        abort: TransferAbort? = nil,
        onProgress: @escaping (DownloadProgress) -> Void = { _ in },
        onChunk: @escaping (UnsafeRawBufferPointer) throws -> Void
    ) throws(HTTPError) -> DownloadSummary {
        let state = DownloadState(delivered: offset)
        var failuresWithoutProgress = 0
        var attempts = 0
        var resumedAt: [Int64] = []
        var restarts = 0
        var backoff = policy.initialBackoff

        while true {
            attempts += 1
            let startOfAttempt = state.delivered
            var request = HTTPRequest(
                method: .get, url: url, headers: headers, timeouts: policy.timeouts, version: .http1_1,
                followRedirects: true, acceptCompressed: false)
            request.abort = abort
            if state.delivered > 0 {
                request.headers.append((name: "Range", value: "bytes=\(state.delivered)-"))
                if attempts > 1 || offset > 0 { resumedAt.append(state.delivered) }
            }
            state.skip = 0
            state.finishedBy416 = false
            do throws(HTTPError) {
                try stream(
                    request,
                    onHead: { head in try state.accept(head, url: url) },
                    onBody: { chunk in
                        var chunk = chunk
                        if state.skip > 0 {
                            let dropped = Int(min(Int64(chunk.count), state.skip))
                            state.skip -= Int64(dropped)
                            chunk = UnsafeRawBufferPointer(rebasing: chunk[dropped...])
                            if chunk.isEmpty { return }
                        }
                        if state.isErrorBody { return }
                        try onChunk(chunk)
                        state.delivered += Int64(chunk.count)
                        onProgress(DownloadProgress(bytesDelivered: state.delivered, totalBytes: state.total, attempt: attempts))
                    })
                if state.restartedFromZero { restarts += 1; state.restartedFromZero = false }
                if let total = state.total, state.delivered < total, !state.finishedBy416 {
                    throw HTTPError(
                        code: .transfer, message: "connection closed after \(state.delivered) of \(total) bytes", url: url)
                }
                return DownloadSummary(
                    bytesDelivered: state.delivered, totalBytes: state.total, attempts: attempts, resumedAt: resumedAt,
                    restarts: restarts)
            } catch {
                if state.restartedFromZero { restarts += 1; state.restartedFromZero = false }
                guard error.isTransient else { throw error }
                if state.delivered > startOfAttempt {
                    failuresWithoutProgress = 0
                    backoff = policy.initialBackoff
                } else {
                    failuresWithoutProgress += 1
                }
                guard failuresWithoutProgress < policy.maxAttemptsWithoutProgress else {
                    throw HTTPError(
                        code: .retriesExhausted,
                        message:
                            "gave up after \(attempts) attempts (\(failuresWithoutProgress) without progress) at byte \(state.delivered): \(error.message)",
                        url: url, status: error.status)
                }
                logger.warning(
                    "download interrupted, resuming",
                    metadata: [
                        "url": "\(url.redactedURL)", "byte": "\(state.delivered)", "attempt": "\(attempts)",
                        "error": "\(error.code)",
                    ])
                sleepWithJitter(backoff, abort: abort)
                if abort?.isSet == true { throw HTTPError(code: .canceled, message: "the transfer was canceled", url: url) }
                backoff = min(backoff * 2, policy.maxBackoff)
            }
        }
    }
}

/// Per-download state shared with the transfer callbacks.
final class DownloadState {
    var delivered: Int64
    var total: Int64?
    var etag: String?
    var skip: Int64 = 0
    var restartedFromZero = false
    var finishedBy416 = false
    var isErrorBody = false

    init(delivered: Int64) { self.delivered = delivered }

    func accept(_ head: HTTPResponseHead, url: String) throws {
        isErrorBody = false
        let tag = head.header("ETag")
        if let known = etag, let tag, known != tag {
            throw HTTPError(
                code: .protocolViolation, message: "the file changed between attempts (ETag differs)", url: url, status: head.status)
        }
        if let tag { etag = tag }
        switch head.status {
        case 206:
            guard let range = head.header("Content-Range"), let parsed = ContentRange(range) else {
                throw HTTPError(code: .protocolViolation, message: "206 without a valid Content-Range", url: url, status: 206)
            }
            guard parsed.first == delivered else {
                throw HTTPError(
                    code: .protocolViolation, message: "asked for byte \(delivered) but the server sent from byte \(parsed.first)",
                    url: url, status: 206)
            }
            if let t = parsed.total { total = t }
        case 200:
            if let length = head.header("Content-Length").flatMap({ Int64($0) }) { total = length }
            if delivered > 0 {
                // The server ignored Range: read from the start again and skip what was delivered.
                skip = delivered
                restartedFromZero = true
            }
        case 416:
            // Nothing left: fine when we already have the whole file.
            if let range = head.header("Content-Range"), let parsed = ContentRange(range), let t = parsed.total, t == delivered {
                total = t
                finishedBy416 = true
                isErrorBody = true
                return
            }
            throw HTTPError(code: .status, message: "range not satisfiable at byte \(delivered)", url: url, status: 416)
        default:
            throw HTTPError(code: .status, message: "unexpected HTTP status \(head.status)", url: url, status: head.status)
        }
    }
}

/// A parsed `Content-Range: bytes first-last/total` (or `bytes */total`).
struct ContentRange: Equatable {
    var first: Int64
    var last: Int64?
    var total: Int64?

    init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: " ")
        guard trimmed.hasPrefix("bytes ") else { return nil }
        let rest = trimmed.dropFirst(6)
        let parts = rest.split(separator: "/", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        total = parts[1] == "*" ? nil : Int64(parts[1])
        if parts[0] == "*" {
            first = total ?? 0
            last = nil
            return
        }
        let bounds = parts[0].split(separator: "-")
        guard bounds.count == 2, let f = Int64(bounds[0]), let l = Int64(bounds[1]) else { return nil }
        first = f
        last = l
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String { self[...].trimmingCharacters(in: set) }
}

func sleepWithJitter(_ base: Duration, abort: TransferAbort? = nil) {
    let ms = max(1, base.milliseconds)
    var left = min(ms / 2 + Int64.random(in: 0...ms), 60_000)
    // In slices, so that a cancelled transfer does not sit out its backoff.
    while left > 0, abort?.isSet != true {
        let slice = min(left, 100)
        usleep(UInt32(slice * 1000))
        left -= slice
    }
}
