import HTTP

extension ShopifyAdminClient {
    /// Streams a result file (`url` or `partialDataUrl`) to `onChunk`, every byte exactly once and in
    /// order, from byte `offset` on; a dropped connection resumes with `Range` from the last byte
    /// delivered (`configuration.download`).
    ///
    /// The request carries **no** Shopify token or other credential: the URL is a pre-signed link to
    /// another host. `https://` is required except for loopback hosts. Callbacks run one after the other
    /// on a background thread while the caller is suspended. An error thrown by `onChunk` stops the
    /// download and is rethrown unchanged; transfer failures throw `ShopifyError` (`download`, or
    /// `expired` when the storage host refuses the link).
    ///
    /// - Parameter fileSize: the operation's `fileSize`, for progress before a response tells it.
    @discardableResult
    public func download(
        url: String, from offset: Int64 = 0, fileSize: Int64? = nil, abort: TransferAbort? = nil,
        onProgress: @escaping (DownloadProgress) -> Void = { _ in },
        onChunk: @escaping (UnsafeRawBufferPointer) throws -> Void
    ) async throws -> DownloadSummary {
        guard URLParts.isAllowedTransport(url) else {
            throw ShopifyError(
                code: .insecureBaseURL,
                message: "refusing to download \(url.redactedURL): result URLs must use https:// (http:// only on loopback)",
                store: endpoint.store)
        }
        let http = self.http
        let policy = configuration.download
        let callbacks = UncheckedCallbacks(onProgress: onProgress, onChunk: onChunk)
        let store = endpoint.store
        logger.info("downloading bulk result", metadata: ["url": "\(url.redactedURL)", "offset": "\(offset)"])
        let result: Result<DownloadSummary, HTTPError> = await runOnThread {
            do throws(HTTPError) {
                let summary = try http.download(
                    url: url, from: offset, headers: [], policy: policy, abort: abort,
                    onProgress: { progress in
                        var p = progress
                        if p.totalBytes == nil { p.totalBytes = fileSize }
                        callbacks.onProgress(p)
                    },
                    onChunk: { try callbacks.onChunk($0) })
                return .success(summary)
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let summary):
            logger.info(
                "bulk result downloaded",
                metadata: [
                    "bytes": "\(summary.bytesDelivered)", "attempts": "\(summary.attempts)", "resumes": "\(summary.resumedAt.count)",
                ])
            return summary
        case .failure(let error):
            if error.code == .aborted, let underlying = error.underlying { throw underlying }
            if error.code == .canceled { throw CancellationError() }
            if error.status == 403 || error.status == 410 {
                throw ShopifyError(
                    code: .expired,
                    message:
                        "the storage host refused the result URL (HTTP \(error.status!)): signed result URLs expire 7 days after the operation ends; poll the operation for a fresh URL or resubmit",
                    store: store, status: error.status, isRetryable: true, underlying: error)
            }
            throw ShopifyError(
                code: .download, message: "downloading \(url.redactedURL) failed: \(error.message)", store: store, status: error.status,
                isRetryable: error.isTransient || error.code == .retriesExhausted, underlying: error)
        }
    }
}

/// The download callbacks, called sequentially on the transfer thread while their owner is suspended.
private final class UncheckedCallbacks: @unchecked Sendable {
    let onProgress: (DownloadProgress) -> Void
    let onChunk: (UnsafeRawBufferPointer) throws -> Void
    init(onProgress: @escaping (DownloadProgress) -> Void, onChunk: @escaping (UnsafeRawBufferPointer) throws -> Void) {
        self.onProgress = onProgress
        self.onChunk = onChunk
    }
}
