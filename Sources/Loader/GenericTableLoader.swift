import Foundation
import JSONL
import Postgres

/// Loads any bulk result into a generic table keyed by (shop_id, gid): type, parent gid and the whole
/// line as jsonb. Validates every line; one transaction.
public final class GenericTableLoader: @unchecked Sendable {
    public let table: String
    private var connection: PostgresConnection?
    private var parser = JSONLParser(plan: try! FieldPlan(paths: ["id", "__typename", "__parentId"]))
    private var buffer = CopyTextBuffer(capacity: 4 << 20)
    private var lines = 0

    public init(table: String) { self.table = table }

    public func begin(on connection: PostgresConnection) throws {
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

    public func feed(_ chunk: UnsafeRawBufferPointer) throws {
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

    public func finish(shopID: Int64, runID: Int64) throws -> (lines: Int, rows: Int) {
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
    public func abort() {
        guard let connection else { return }
        _ = try? connection.execute("ROLLBACK", name: "roll back saved-query load")
        self.connection = nil
    }
}
