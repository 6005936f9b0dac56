import Foundation
import JSONL
import Postgres

/// Collects the ids of an id-only export into a temporary table and marks the mirror rows Shopify no
/// longer has as deleted (and un-marks rows that came back). One transaction.
public final class IDCollector: @unchecked Sendable {
    public let table: String
    private var connection: PostgresConnection?
    private var parser = JSONLParser(plan: try! FieldPlan(paths: ["id"]))
    private var buffer = CopyTextBuffer(capacity: 4 << 20)
    /// Ids read so far.
    public private(set) var collected = 0

    public init(table: String) { self.table = table }

    public func begin(on connection: PostgresConnection) throws {
        self.connection = connection
        try connection.execute("BEGIN", name: "begin reconcile")
        try connection.execute("CREATE TEMP TABLE sb_seen_ids (id bigint) ON COMMIT DROP", name: "create id table")
    }

    public func feed(_ chunk: UnsafeRawBufferPointer) throws {
        try parser.feed(chunk) { line in try self.take(line) }
    }

    private func take(_ line: borrowing JSONLLine) throws {
        let id = line[0]
        guard id.kind == .string, let digits = GID.numericID(id.bytes, kind: .string) else {
            throw LoadError(
                code: .badRecord, source: "reconcile export", line: line.number, byteOffset: line.byteOffset,
                reason: "a line without a Shopify GID in \"id\"")
        }
        buffer.beginField()
        buffer.appendVerbatim(digits)
        buffer.endRow()
        collected += 1
        if buffer.count >= 4 << 20 { try flush() }
    }

    private func flush() throws {
        guard buffer.count > 0, let connection else { return }
        try connection.copyFrom("COPY sb_seen_ids (id) FROM STDIN", name: "copy ids") { writer in try writer.send(buffer) }
        buffer.reset(shrinkTo: 4 << 20)
    }

    /// Marks rows not seen (created before `notAfter`) as deleted; returns how many were marked.
    /// Reads what is left of the input; call before comparing `collected` with Shopify's count.
    public func end() throws {
        try parser.finish { line in try self.take(line) }
        try flush()
    }

    public func finish(shopID: Int64, runID: Int64, notAfter: Date) throws -> Int {
        guard let connection else { return 0 }
        do {
            try connection.execute("CREATE INDEX ON sb_seen_ids (id)", name: "index ids")
            // Temporary tables get no statistics from autovacuum: without them the anti-join below may
            // be planned as a scan of the ids per row.
            try connection.execute("ANALYZE sb_seen_ids", name: "analyze ids")
            let marked = try connection.query(
                """
                UPDATE \(quoteIdent(table)) t SET deleted_at = now()
                WHERE t.shop_id = $1 AND t.deleted_at IS NULL
                  AND (t.created_at IS NULL OR t.created_at < $2::timestamptz)
                  AND NOT EXISTS (SELECT 1 FROM sb_seen_ids s WHERE s.id = t.id)
                """, [shopID, Timestamp.text(notAfter)], name: "mark deleted rows"
            ).affectedRows
            try connection.query(
                """
                UPDATE \(quoteIdent(table)) t SET deleted_at = NULL
                WHERE t.shop_id = $1 AND t.deleted_at IS NOT NULL AND EXISTS (SELECT 1 FROM sb_seen_ids s WHERE s.id = t.id)
                """, [shopID], name: "unmark rows that are back")
            try connection.query(
                "UPDATE sync_runs SET status = 'loaded', rows_loaded = $2, loaded_at = now(), updated_at = now() WHERE id = $1",
                [runID, marked], name: "record reconcile")
            try connection.execute("COMMIT", name: "commit reconcile")
            self.connection = nil
            return marked
        } catch {
            abort()
            throw error
        }
    }

    /// Rolls back what was collected (idempotent).
    public func abort() {
        guard let connection else { return }
        _ = try? connection.execute("ROLLBACK", name: "roll back reconcile")
        self.connection = nil
    }
}
