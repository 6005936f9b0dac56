import Blocking
import Failpoints
import Foundation
import HTTP
import Logging
import ShopifyAdmin

/// One bulk operation of a `sync_runs` row, from submission to its result in a sink: the one path
/// import windows, reconcile exports and saved queries take, so that each records the same columns
/// (operation id, Shopify's status, counts, result URL and its expiry, bytes) at the same moments.
/// Every ledger write goes through the run's owning session.
struct BulkJob: Sendable {
    let runID: Int64
    let shopID: Int64
    let client: ShopifyAdminClient
    let session: DatabaseSession
    let progress: ProgressBoard
    let logger: Logger

    /// Records `submitting`, submits `text` and records the operation. Returns its id.
    func submit(_ text: String, queryName: String) async throws -> String {
        try Task.checkCancellation()
        let id = runID
        try await session.ledger { try $0.record(id, .init(status: .submitting, submittedAt: Date())) }
        progress.update(id, label: "") { $0.status = RunStatus.submitting.rawValue }
        let operation = try await client.submitBulkQuery(
            query: text, groupObjects: false, queryName: queryName,
            onSlotWait: { [progress] _, _ in progress.update(id, label: "") { $0.status = "slot-wait" } })
        Failpoint.hit("submit.accepted")
        try await session.ledger {
            try $0.record(id, .init(status: .submitted, operationGID: operation.id, shopifyStatus: operation.status.rawValue))
        }
        progress.update(id, label: "") { $0.status = RunStatus.submitted.rawValue }
        Failpoint.hit("submit.recorded")
        return operation.id
    }

    /// An operation of this app whose query is exactly `text`, created since `since` and not yet
    /// recorded for another run: one submitted just before a crash. Recorded for this run when found.
    func adopt(_ text: String, since: Date?) async throws -> String? {
        let shop = shopID
        let known = try await session.ledger { try $0.knownOperations(shopID: shop) }
        guard let found = try await client.operation(withQuery: text, createdSince: since, excluding: known) else { return nil }
        logger.notice("adopting an operation submitted before a crash", metadata: ["operation": "\(found.id)", "run": "\(runID)"])
        let id = runID
        try await session.ledger {
            try $0.record(id, .init(status: .submitted, operationGID: found.id, shopifyStatus: found.status.rawValue))
        }
        return found.id
    }

    /// Polls until the operation ends; records its progress (at most every 5 s) and its end. A
    /// FAILED / CANCELED / EXPIRED operation throws the `ShopifyError` with its `operation`; any other
    /// error (the network, a 401) leaves the run submitted, so that a rerun polls the same operation.
    func poll(_ operation: String, submittedAt: Date?) async throws -> BulkOperation {
        let id = runID
        let age = submittedAt.map { Duration.seconds(max(0, Date().timeIntervalSince($0))) } ?? .zero
        let lastWrite = LockedDate()
        let session = self.session
        let done = try await client.waitForCompletion(id: operation, initialAge: age) { [progress] op in
            progress.update(id, label: "") {
                $0.status = op.status.rawValue.lowercased()
                $0.objects = op.objectCount
                $0.fileSize = op.fileSize
            }
            Failpoint.hit("poll")
            guard lastWrite.secondsSince() > 5 else { return }
            lastWrite.touch()
            // Progress only: a failed write is not worth stopping the import for.
            try? await session.ledger {
                try $0.record(
                    id,
                    .init(
                        status: .running, shopifyStatus: op.status.rawValue, objectCount: op.objectCount,
                        rootObjectCount: op.rootObjectCount))
            }
        }
        if done.url == nil && done.objectCount > 0 {
            // Objects counted but no file to read them from: loading "nothing" would move the mark past them.
            throw ImportError(
                code: "INCOMPLETE", message: "operation \(operation) completed with \(done.objectCount) objects but no result URL")
        }
        let completed = done.completedAt ?? Date()
        try await session.ledger {
            try $0.record(
                id,
                .init(
                    status: done.url == nil ? .empty : .completed, shopifyStatus: done.status.rawValue, objectCount: done.objectCount,
                    rootObjectCount: done.rootObjectCount, fileSize: done.fileSize, resultURL: done.url,
                    // Shopify's signed result URLs are valid for 7 days after the operation completed.
                    urlExpiresAt: completed.addingTimeInterval(7 * 86_400), completedAt: completed))
        }
        if done.url == nil { progress.update(id, label: "") { $0.status = RunStatus.empty.rawValue } }
        return done
    }

    /// Streams the result at `url` into `sink` and commits it; records `downloading` first and the
    /// bytes after. A file shorter or longer than Shopify announced is never committed.
    func deliver(url: String, fileSize: Int64?, into sink: any ResultSink) async throws -> (SinkResult, Int64) {
        let id = runID
        try await session.ledger { try $0.record(id, .init(status: .downloading)) }
        progress.update(id, label: "") { $0.status = "loading" }
        let box = UnsafeSink(sink: sink)
        // Every failure, the begin's included, aborts the sink here, before the error reaches the
        // owner of its connection (who may close it): nothing is left for the sink's deinit to do.
        do {
            try await BlockingPool.shared.run { try box.sink.begin() }
            let marks = DownloadMarks(fileSize: fileSize)
            // Cancellation stops the transfer through libcurl's progress callback, stalled or not.
            let stop = TransferAbort()
            let summary = try await withTaskCancellationHandler {
                try await client.download(
                    url: url, from: 0, fileSize: fileSize, abort: stop,
                    onProgress: { [progress] p in progress.update(id, label: "") { $0.bytes = p.bytesDelivered } },
                    onChunk: { chunk in
                        if stop.isSet { throw CancellationError() }
                        try box.sink.feed(chunk)
                        marks.passed(chunk.count)
                    })
            } onCancel: {
                stop.set()
            }
            if let fileSize, summary.bytesDelivered != fileSize {
                throw ImportError(
                    code: "SIZE_MISMATCH",
                    message:
                        "the result of run \(id) has \(summary.bytesDelivered) bytes, Shopify announced \(fileSize); not loading a cut file"
                )
            }
            try Task.checkCancellation()
            // The merge and COMMIT of a big file take a while: a cancellation asks the server to stop
            // the statement (the transaction then rolls back), so that Ctrl-C does not wait for it.
            let result = try await withTaskCancellationHandler {
                try await BlockingPool.shared.run { try box.sink.commit() }
            } onCancel: {
                box.sink.cancelRunning()
            }
            Failpoint.hit("commit.before-ledger")
            // Committed: from here nothing may undo the window's loaded status; the byte count is a nicety.
            try? await session.ledger { try $0.record(id, .init(bytesDownloaded: summary.bytesDelivered)) }
            progress.update(id, label: "") {
                $0.status = result.rejected > 0 ? RunStatus.partial.rawValue : RunStatus.loaded.rawValue
                $0.rows = result.rowsLoaded
            }
            return (result, summary.bytesDelivered)
        } catch {
            await BlockingPool.shared.run { box.sink.abort() }
            throw error
        }
    }
}

/// Fires the `download.N` failpoints as a result streams.
final class DownloadMarks: @unchecked Sendable {
    private let fileSize: Int64?
    private var bytes: Int64 = 0
    private var next = 0
    private static let marks = [10, 50, 90]

    init(fileSize: Int64?) { self.fileSize = fileSize }

    /// Called on the download thread, one chunk after the other.
    func passed(_ count: Int) {
        bytes += Int64(count)
        guard let fileSize, fileSize > 0 else { return }
        while next < Self.marks.count, bytes * 100 >= fileSize * Int64(Self.marks[next]) {
            Failpoint.hit("download.\(Self.marks[next])")
            next += 1
        }
    }
}

/// A time shared by a polling callback's invocations.
final class LockedDate: @unchecked Sendable {
    private let lock = NSLock()
    private var date = Date.distantPast
    func secondsSince() -> Double {
        lock.lock()
        defer { lock.unlock() }
        return Date().timeIntervalSince(date)
    }
    func touch() {
        lock.lock()
        date = Date()
        lock.unlock()
    }
}
