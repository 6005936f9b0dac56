import BulkQueries
import Foundation
import JSONL
import Loader
import Postgres
import ShopifyAdmin

/// Where a saved query's result goes.
public enum SavedQueryDestination: Sendable {
    /// The JSONL file as Shopify produced it.
    case file(String)
    /// A generic table `(shop_id, gid, type, parent_gid, data jsonb, run_id, imported_at)`, created if missing.
    case table(String)
}

/// What a saved query did.
public struct SavedQueryReport: Sendable {
    public var runID: Int64
    public var operation: String
    public var lines: Int
    public var bytes: Int64
    public var rows: Int
    public var seconds: Double
}

extension ImportEngine {
    /// Runs any bulk-valid query file for a shop, into a JSONL file or a generic table. The output is
    /// opened (file) or checked (table name) before anything is submitted.
    public func runSaved(_ query: QueryFile, shop name: String, into destination: SavedQueryDestination, variables: [String: String] = [:])
        async throws -> SavedQueryReport
    {
        let started = Date()
        let prepared = try query.prepare(window: nil, variables: variables)
        if case .table(let table) = destination {
            guard Mapping.isIdentifier(table) else {
                throw ShopError(
                    .invalidArgument, "'\(table)' is not a valid table name (lower-case letters, digits and _; starting with a letter)")
            }
            let reserved = [
                "shops", "customers", "orders", "order_lines", "sync_runs", "sync_state", "rejected_records", "schema_migrations",
                "contacts", "customer_accounts", "order_history",
            ]
            guard !reserved.contains(table) else {
                throw ShopError(
                    .invalidArgument, "'\(table)' is one of shopbulk's own tables; choose another name for the saved query's table")
            }
        }
        // The output file is opened (its path checked) before anything is submitted to Shopify.
        var fileSink: FileSink?
        if case .file(let path) = destination { fileSink = try FileSink(path: path) }
        return try await withSession("run \(name)") { session in
            let shop = try await session.run { try ShopStore(connection: $0).require(name) }
            // Checked against the shop's API version and cached schema before any request.
            let logger = self.logger
            let query = try await session.run { connection in
                var checked = query
                try SchemaGate.check(&checked, shop: shop, store: SchemaStore(connection: connection), logger: logger)
                return checked
            }
            let client = try connector.client(for: shop)
            let shopID = shop.id
            let runID = try await session.ledger {
                try $0.create(
                    .init(shopID: shopID, kind: "saved", resource: prepared.rootField, queryName: query.name, queryHash: query.hash))
            }
            defer { progress.finish() }
            progress.update(runID, label: "\(shop.name) \(query.name)") { $0.status = RunStatus.planned.rawValue }
            let job = BulkJob(runID: runID, shopID: shopID, client: client, session: session, progress: progress, logger: logger)
            do {
                let operation = try await job.submit(prepared.text, queryName: query.path)
                let done = try await job.poll(operation, submittedAt: started)
                var result = SinkResult()
                var bytes: Int64 = 0
                switch destination {
                case .file:
                    let sink = FileResultSink(fileSink!)
                    if let url = done.url {
                        (result, bytes) = try await job.deliver(url: url, fileSize: done.fileSize, into: sink)
                    } else {
                        result = try sink.commit()
                    }
                    result.rows = ["file": result.lines]
                case .table(let table):
                    (result, bytes) = try await withSession("run \(name) load") { load in
                        let sink = TableSink(table: table, connection: load.unsafeConnection.connection, shopID: shopID, runID: runID)
                        guard let url = done.url else { return (SinkResult(rows: [table: 0]), 0) }
                        return try await job.deliver(url: url, fileSize: done.fileSize, into: sink)
                    }
                }
                let rows = result.rowsLoaded
                let downloaded = bytes
                try await session.ledger {
                    try $0.record(runID, .init(status: .loaded, bytesDownloaded: downloaded, rowsLoaded: Int64(rows), loadedAt: Date()))
                }
                progress.update(runID, label: "") {
                    $0.status = RunStatus.loaded.rawValue
                    $0.rows = rows
                    $0.bytes = downloaded
                }
                return SavedQueryReport(
                    runID: runID, operation: operation, lines: result.lines, bytes: bytes, rows: rows,
                    seconds: Date().timeIntervalSince(started))
            } catch {
                // No half file: the temporary file goes now, not when the sink is released.
                fileSink?.abandon()
                // Interrupted: the run stays as it is (`cancel` can still find its operation).
                if error is CancellationError { throw error }
                let code = ImportError.code(of: error)
                let message = "\(error)"
                try? await session.ledger { try $0.fail(runID, code: code, message: message) }
                throw error
            }
        }
    }
}
