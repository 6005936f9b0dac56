import JSONL
import Postgres

/// Children without an id of their own: a leaf connection whose nodes have no `id` (or do not select
/// it) gives lines with only `__parentId` (`{"__typename":"DiscountCodeApplication", …,
/// "__parentId":"gid://shopify/Order/1"}`). Shopify accepts such connections in bulk queries.
///
/// A mapping sends them to a table keyed `(shop_id, parent column, position)`: `position` is the
/// line's place among the parent's lines of that section, in file order, which bulk output keeps for
/// one parent's children whether it is grouped or not. A load replaces a parent's id-less children as
/// a set (rows beyond the new count are removed). Lines that no such section maps go to
/// `bulk_records`, keyed by their parent, type and position. Never a failed load.
enum IdlessChildren {
    /// A table for id-less children: no `id`, but `position` and the section's parent column.
    static func isPositional(_ schema: TableSchema, section: Mapping.Section) -> Bool {
        guard let parentColumn = section.parentColumn else { return false }
        return !schema.has("id") && schema.has("position") && schema.has(parentColumn)
    }

}

extension RowEncoder {
    enum IdlessRoute {
        case section(Int)
        case other
    }

    /// Where a line without `id` goes: the positional section its `__typename` (or the interface of
    /// it) names, else `bulk_records`; nil when it has no `__parentId` either (not an id-less child).
    func routeIdless(_ line: borrowing JSONLLine) throws(RowRejection) -> IdlessRoute? {
        guard line[plan.parentSlot].kind == .string else { return nil }
        let typename = line[plan.typenameSlot]
        guard typename.kind == .string else { return .other }
        let type = String(decoding: typename.bytes, as: UTF8.self)
        for section in plan.sections where section.type == type || section.memberTypes.contains(type) {
            if section.positional { return .section(section.index) }
            throw RowRejection(
                reason:
                    "a \(type) line has no \"id\", but \(section.table) is keyed by id: select id for it in the query, or map it into a table keyed by (shop_id, \(section.parentColumn ?? "parent"), position)"
            )
        }
        return .other
    }
}

extension BulkLoader {
    /// Stores the id-less children of `section` (after their parents were upserted); returns the rows
    /// written and the rows removed (beyond a parent's new count), and keeps orphans in `bulk_records`.
    func replaceIdless(_ section: LoadPlan.Section, removeMissing: Bool, summary: inout LoadSummary) throws -> Int {
        guard let parentType = section.parentType, let parentColumn = section.parentColumn,
            let parent = plan.sections.first(where: { $0.type == parentType })
        else { return 0 }
        let pc = quoteIdent(parentColumn)
        let table = quoteIdent(section.table)
        let stage = section.stagingTable
        // Children whose parent is neither in this file nor stored: kept, keyed by parent, type and position.
        let orphans = try connection.query(
            """
            WITH orphans AS (
                DELETE FROM \(stage) s
                WHERE NOT EXISTS (SELECT 1 FROM \(parent.stagingTable) p WHERE p.id = s.\(pc))
                  AND NOT EXISTS (SELECT 1 FROM \(quoteIdent(parent.table)) t WHERE t.shop_id = $1 AND t.id = s.\(pc))
                RETURNING s.*
            )
            INSERT INTO bulk_records (shop_id, gid, type, parent_gid, data, run_id)
            SELECT $1, 'gid://shopify/' || $3 || '/' || \(pc) || '#' || $2 || '-' || (row_number() OVER (PARTITION BY \(pc) ORDER BY sb_line) - 1),
                   $2, 'gid://shopify/' || $3 || '/' || \(pc), to_jsonb(o) - 'sb_line' - 'id' - 'gid', $4::bigint
            FROM orphans o
            ON CONFLICT (shop_id, gid) DO UPDATE SET type = EXCLUDED.type, parent_gid = EXCLUDED.parent_gid,
                data = EXCLUDED.data, run_id = EXCLUDED.run_id, imported_at = now()
            """, [shopID, section.type, parentType, runID], name: "keep orphaned \(section.type) lines")
        if orphans.affectedRows > 0 { summary.orphans[section.type, default: 0] += orphans.affectedRows }

        // The parents whose set is replaced: those with lines here, and (for complete data) those in
        // this file, unless the stored parent is newer than this file's (a stale file changes nothing).
        let parents = "sb_idless_parents_\(section.index)"
        let stale =
            parent.hasUpdatedAt
            ? "EXISTS (SELECT 1 FROM \(parent.stagingTable) p JOIN \(quoteIdent(parent.table)) t ON t.shop_id = $1 AND t.id = p.id WHERE p.id = x.id AND t.updated_at IS DISTINCT FROM p.updated_at)"
            : "false"
        let inFile = removeMissing ? " UNION SELECT id FROM \(parent.stagingTable)" : ""
        try connection.execute("CREATE TEMP TABLE \(parents) (id bigint) ON COMMIT DROP", name: "create parents of \(section.type)")
        try connection.query(
            "INSERT INTO \(parents) SELECT x.id FROM (SELECT \(pc) AS id FROM \(stage)\(inFile)) x WHERE x.id IS NOT NULL AND NOT \(stale) GROUP BY x.id",
            [shopID], name: "collect parents of \(section.type)")
        try connection.execute("CREATE INDEX ON \(parents) (id)", name: "index parents of \(section.type)")
        try connection.execute("ANALYZE \(parents)", name: "analyze parents of \(section.type)")

        // The new set, numbered in file order per parent.
        let numbered = "sb_idless_\(section.index)"
        var columns = section.targets.map { quoteIdent($0.column) }
        if section.hasExtra { columns.append("extra") }
        let selected = columns.map { "s.\($0)" }
        try connection.execute(
            """
            CREATE TEMP TABLE \(numbered) ON COMMIT DROP AS
            SELECT s.\(pc), (row_number() OVER (PARTITION BY s.\(pc) ORDER BY s.sb_line) - 1)::integer AS position\(selected.isEmpty ? "" : ", " + selected.joined(separator: ", "))
            FROM \(stage) s JOIN \(parents) p ON p.id = s.\(pc)
            """, name: "number \(section.type) lines")
        var insert = ["shop_id", pc, "position"] + columns
        var values = ["$1::bigint", pc, "position"] + columns.map { $0 == "extra" ? "coalesce(extra, '{}')" : $0 }
        var updates = columns.map { "\($0) = EXCLUDED.\($0)" }
        if section.hasImportedAt {
            insert.append("imported_at")
            values.append("now()")
            updates.append("imported_at = EXCLUDED.imported_at")
        }
        let conflict = updates.isEmpty ? "DO NOTHING" : "DO UPDATE SET " + updates.joined(separator: ", ")
        let written = try connection.query(
            """
            INSERT INTO \(table) (\(insert.joined(separator: ", "))) SELECT \(values.joined(separator: ", ")) FROM \(numbered)
            ON CONFLICT (shop_id, \(pc), position) \(conflict)
            """, [shopID], name: "store \(section.type) rows"
        ).affectedRows
        // Each parent's new count once, indexed: a correlated count per stored row would scan the
        // numbered lines once per row (quadratic on a re-load of a big file).
        let counts = "sb_idless_counts_\(section.index)"
        try connection.execute(
            "CREATE TEMP TABLE \(counts) ON COMMIT DROP AS SELECT \(pc) AS id, count(*)::integer AS n FROM \(numbered) GROUP BY \(pc)",
            name: "count \(section.type) lines per parent")
        try connection.execute("CREATE INDEX ON \(counts) (id)", name: "index \(section.type) counts")
        try connection.execute("ANALYZE \(counts)", name: "analyze \(section.type) counts")
        let removed = try connection.query(
            """
            DELETE FROM \(table) c USING \(parents) p LEFT JOIN \(counts) k ON k.id = p.id
            WHERE c.shop_id = $1 AND c.\(pc) = p.id AND c.position >= coalesce(k.n, 0)
            """, [shopID], name: "remove vanished \(section.type) rows"
        ).affectedRows
        if removed > 0 { summary.removedChildren[section.table, default: 0] += removed }
        return written
    }

    /// The `bulk_records` insert of lines no section maps: id-less lines (no gid) are keyed by their
    /// parent, type and position.
    static let otherRecordsSQL = """
        INSERT INTO bulk_records (shop_id, gid, type, parent_gid, data, run_id)
        SELECT DISTINCT ON (k) $1, k, coalesce(type, 'unknown'), parent_gid, data, $2::bigint
        FROM (SELECT coalesce(gid, parent_gid || '#' || coalesce(type, 'unknown') || '-'
                       || (row_number() OVER (PARTITION BY parent_gid, type, gid IS NULL ORDER BY sb_line) - 1)) AS k,
                     type, parent_gid, data, sb_line
              FROM sb_stage_other) o
        WHERE k IS NOT NULL
        ORDER BY k, sb_line DESC
        ON CONFLICT (shop_id, gid) DO UPDATE SET type = EXCLUDED.type, parent_gid = EXCLUDED.parent_gid,
            data = EXCLUDED.data, run_id = EXCLUDED.run_id, imported_at = now()
        """
}
