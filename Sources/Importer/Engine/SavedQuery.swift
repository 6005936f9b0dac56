import Foundation
import JSONL
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
                throw ShopError(message: "'\(table)' is not a valid table name (lower-case letters, digits and _; starting with a letter)")
            }
            let reserved = [
                "shops", "customers", "orders", "order_lines", "sync_runs", "sync_state", "rejected_records", "schema_migrations",
                "contacts", "customer_accounts", "order_history",
            ]
            guard !reserved.contains(table) else {
                throw ShopError(message: "'\(table)' is one of shopbulk's own tables; choose another name for the saved query's table")
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

/// Loads any bulk result into a generic table keyed by (shop_id, gid): type, parent gid and the whole
/// line as jsonb. Validates every line; one transaction.
final class GenericTableLoader: @unchecked Sendable {
    let table: String
    private var connection: PostgresConnection?
    private var parser = JSONLParser(plan: try! FieldPlan(paths: ["id", "__typename", "__parentId"]))
    private var buffer = CopyTextBuffer(capacity: 4 << 20)
    private var lines = 0

    init(table: String) { self.table = table }

    func begin(on connection: PostgresConnection) throws {
        self.connection = connection
        try connection.execute(
            """
            CREATE TABLE IF NOT EXISTS \(quoteIdent(table)) (
                shop_id bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
                gid text NOT NULL,
                type text NOT NULL,
                parent_gid text,
                data jsonb NOT NULL,
                run_id bigint,
                imported_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (shop_id, gid)
            )
            """, name: "create saved-query table")
        try connection.execute("BEGIN", name: "begin saved-query load")
        try connection.execute(
            "CREATE TEMP TABLE sb_generic (gid text, type text, parent_gid text, data jsonb, line bigint) ON COMMIT DROP",
            name: "create staging")
    }

    func feed(_ chunk: UnsafeRawBufferPointer) throws {
        try parser.feed(chunk) { line in try self.take(line) }
    }

    private func take(_ line: borrowing JSONLLine) throws {
        lines = line.number
        let id = line[0]
        let typename = line[1]
        if id.kind == .absent, line[2].kind == .string, typename.kind == .string {
            // A child without id (a leaf connection such as discountApplications): keyed by parent,
            // type and position when stored (``IdlessChildren``).
            buffer.null()
            _ = buffer.field(typename.bytes)
        } else {
            guard id.kind == .string, let gid = GID(id.bytes) else {
                throw LoadError(
                    code: .badRecord, source: "saved query result", line: line.number, byteOffset: line.byteOffset,
                    reason: "a line without a Shopify GID in \"id\"")
            }
            _ = buffer.field(id.bytes)
            _ = buffer.field(typename.kind == .string ? typename.bytes : gid.type)
        }
        let parent = line[2]
        if parent.kind == .string { _ = buffer.field(parent.bytes) } else { buffer.null() }
        if RowEncoder.containsEscapedNul(line.bytes) {
            throw LoadError(
                code: .badRecord, source: "saved query result", line: line.number, byteOffset: line.byteOffset,
                reason: "the line contains \\u0000, which jsonb cannot store")
        }
        _ = buffer.field(line.bytes)
        buffer.beginField()
        RowEncoder.appendDecimal(line.number, into: &buffer)
        buffer.endRow()
        if buffer.count >= 4 << 20 { try flush() }
    }

    private func flush() throws {
        guard buffer.count > 0, let connection else { return }
        try connection.copyFrom("COPY sb_generic FROM STDIN", name: "copy saved-query rows") { writer in try writer.send(buffer) }
        buffer.reset(shrinkTo: 4 << 20)
    }

    func finish(shopID: Int64, runID: Int64) throws -> (lines: Int, rows: Int) {
        guard let connection else { return (0, 0) }
        do {
            try parser.finish { line in try self.take(line) }
            try flush()
            let rows = try connection.query(
                """
                INSERT INTO \(quoteIdent(table)) (shop_id, gid, type, parent_gid, data, run_id)
                SELECT DISTINCT ON (k) $1, k, type, parent_gid, data, $2::bigint
                FROM (SELECT coalesce(gid, parent_gid || '#' || type || '-'
                               || (row_number() OVER (PARTITION BY parent_gid, type, gid IS NULL ORDER BY line) - 1)) AS k,
                             type, parent_gid, data, line FROM sb_generic) g
                ORDER BY k, line DESC
                ON CONFLICT (shop_id, gid) DO UPDATE SET type = EXCLUDED.type, parent_gid = EXCLUDED.parent_gid, data = EXCLUDED.data,
                    run_id = EXCLUDED.run_id, imported_at = now()
                """, [shopID, runID], name: "upsert saved-query rows"
            ).affectedRows
            try connection.execute("COMMIT", name: "commit saved-query load")
            self.connection = nil
            return (lines, rows)
        } catch {
            abort()
            throw error
        }
    }

    /// Rolls back what was staged (idempotent).
    func abort() {
        guard let connection else { return }
        _ = try? connection.execute("ROLLBACK", name: "roll back saved-query load")
        self.connection = nil
    }
}
