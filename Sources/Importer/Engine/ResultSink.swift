import Foundation
import Loader
import Postgres

/// Where a bulk result streams: a staged load into PostgreSQL (begin a transaction, COPY while the
/// file streams, merge and commit, or abort), an id collector, a file. `BulkJob.deliver` drives every
/// sink the same way: begin, feed each chunk in order, commit once the whole file arrived; abort on
/// any error, so that nothing of a cut file is ever committed.
protocol ResultSink: AnyObject {
    func begin() throws
    func feed(_ chunk: UnsafeRawBufferPointer) throws
    /// Ends the input and commits; nothing is committed before.
    func commit() throws -> SinkResult
    /// Stops and rolls back (idempotent).
    func abort()
    /// Asks the server to cancel the statement the sink runs now (from another thread).
    func cancelRunning()
}

/// What a sink stored.
struct SinkResult: Sendable {
    /// Rows per table.
    var rows: [String: Int] = [:]
    var lines = 0
    var rejected = 0
    var rowsLoaded: Int { rows.values.reduce(0, +) }
}

extension BulkLoader: ResultSink {

    func commit() throws -> SinkResult {
        let summary = try finish()
        var rows = summary.rows
        if summary.otherRows > 0 { rows["bulk_records", default: 0] += summary.otherRows }
        return SinkResult(rows: rows, lines: summary.lines, rejected: summary.rejected)
    }
}

/// A reconcile export into `IDCollector`: commits only when the ids match Shopify's count.
final class ReconcileSink: ResultSink {
    let collector: IDCollector
    let connection: PostgresConnection
    let expected: Int64
    let shopID: Int64
    let runID: Int64
    let notAfter: Date
    let resource: String

    init(table: String, connection: PostgresConnection, expected: Int64, shopID: Int64, runID: Int64, notAfter: Date, resource: String) {
        collector = IDCollector(table: table)
        self.connection = connection
        self.expected = expected
        self.shopID = shopID
        self.runID = runID
        self.notAfter = notAfter
        self.resource = resource
    }

    func begin() throws { try collector.begin(on: connection) }
    func feed(_ chunk: UnsafeRawBufferPointer) throws { try collector.feed(chunk) }

    func commit() throws -> SinkResult {
        try collector.end()
        // A cut or incomplete export would mark live rows deleted: the ids must match Shopify's count.
        guard collector.collected == Int(expected) else {
            throw ImportError(
                code: "INCOMPLETE",
                message:
                    "the reconcile export of \(resource) has \(collector.collected) ids but Shopify counted \(expected); nothing was marked"
            )
        }
        let marked = try collector.finish(shopID: shopID, runID: runID, notAfter: notAfter)
        return SinkResult(rows: [collector.table: marked], lines: collector.collected)
    }

    func abort() { collector.abort() }
    func cancelRunning() { connection.requestCancel() }
}

/// A saved query's result into a generic table.
final class TableSink: ResultSink {
    let loader: GenericTableLoader
    let connection: PostgresConnection
    let shopID: Int64
    let runID: Int64

    init(table: String, connection: PostgresConnection, shopID: Int64, runID: Int64) {
        loader = GenericTableLoader(table: table)
        self.connection = connection
        self.shopID = shopID
        self.runID = runID
    }

    func begin() throws { try loader.begin(on: connection) }
    func feed(_ chunk: UnsafeRawBufferPointer) throws { try loader.feed(chunk) }
    func commit() throws -> SinkResult {
        let (lines, rows) = try loader.finish(shopID: shopID, runID: runID)
        return SinkResult(rows: [loader.table: rows], lines: lines)
    }
    func abort() { loader.abort() }
    func cancelRunning() { connection.requestCancel() }
}

/// A saved query's result into a file.
final class FileResultSink: ResultSink {
    let sink: FileSink
    init(_ sink: FileSink) { self.sink = sink }
    func begin() throws {}
    func feed(_ chunk: UnsafeRawBufferPointer) throws { try sink.write(chunk) }
    func commit() throws -> SinkResult {
        let lines = try sink.commit()
        return SinkResult(rows: [:], lines: lines)
    }
    func abort() { sink.abandon() }
    func cancelRunning() {}
}

/// A sink handed to the blocking pool by its single owner (one call at a time).
struct UnsafeSink: @unchecked Sendable {
    let sink: any ResultSink
}

/// An engine error with a stable code, recorded in `sync_runs.error_code`.
public struct ImportError: Error, Sendable, CustomStringConvertible {
    public var code: String
    public var message: String
    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { message }
}
