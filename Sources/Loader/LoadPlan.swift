import Foundation
import JSONL
import Postgres

/// A mapping resolved against the database: which parser slot fills which column, and how.
/// Built once per load; a mapping to a missing table or column is an error naming both.
public struct LoadPlan: Sendable {
    struct Target: Sendable {
        var column: String
        var kind: ColumnKind
        var sqlType: String
        var slot: Int
        var path: String
    }

    struct Section: Sendable {
        var index: Int
        var type: String
        /// UTF-8 bytes of `type`, for fast comparison with a GID's type.
        var typeBytes: [UInt8]
        var table: String
        var parentType: String?
        var parentColumn: String?
        var parentColumnSQLType: String?
        var targets: [Target]
        var hasGID: Bool
        var hasExtra: Bool
        var hasImportedAt: Bool
        var hasDeletedAt: Bool
        var hasUpdatedAt: Bool
        /// Lines without id, keyed `(shop_id, parent column, position)` (``IdlessChildren``).
        var positional: Bool = false
        /// The concrete types an interface-typed section's lines may carry as `__typename`.
        var memberTypes: [String] = []
        /// Top-level members that another section maps (so the parser does not put them into the
        /// unmatched object) but this one does not: they go into this section's `extra` from their slot.
        var foreignMembers: [(key: [UInt8], slot: Int)] = []
        var stagingTable: String { "sb_stage_\(index)" }
    }

    var fieldPlan: FieldPlan
    var idSlot: Int
    var typenameSlot: Int
    var parentSlot: Int
    var sections: [Section]
    /// The first section without a parent: its table names the resource (`orders`).
    var rootSection: Int

    static let reservedPaths = ["id", "__typename", "__parentId"]

    public init(mapping: Mapping, file: String, on connection: PostgresConnection) throws {
        var paths = Self.reservedPaths
        var sections: [Section] = []
        for (index, section) in mapping.sections.enumerated() {
            guard let schema = try TableSchema.read(section.table, on: connection) else {
                throw MappingError(
                    file: file, line: section.line,
                    message: "\(section.type) maps to table \(section.table), which does not exist in the database (add a migration)")
            }
            // Id-less children (lines with only __parentId) go to a table keyed (shop_id, parent, position).
            let positional = IdlessChildren.isPositional(schema, section: section)
            guard schema.has("shop_id"), schema.has("id") || positional else {
                throw MappingError(
                    file: file, line: section.line,
                    message:
                        "table \(section.table) needs columns shop_id and id (bigint) to be loaded into, or, for lines without id, shop_id, the parent column and position (see docs/query-files.md)"
                )
            }
            var targets: [Target] = []
            for column in section.columns {
                guard let sqlType = schema.columns[column.column] else {
                    throw MappingError(
                        file: file, line: column.line,
                        message:
                            "\(section.type).\(column.path) maps to column \(section.table).\(column.column), which does not exist (add a migration for it, or fix the mapping)"
                    )
                }
                let slot: Int
                if let existing = paths.firstIndex(of: column.path) {
                    slot = existing
                } else {
                    slot = paths.count
                    paths.append(column.path)
                }
                targets.append(
                    Target(column: column.column, kind: ColumnKind(sqlType: sqlType), sqlType: sqlType, slot: slot, path: column.path))
            }
            var parentSQLType: String?
            if let parentColumn = section.parentColumn {
                guard let type = schema.columns[parentColumn] else {
                    throw MappingError(
                        file: file, line: section.line,
                        message: "\(section.type)'s parent column \(section.table).\(parentColumn) does not exist")
                }
                parentSQLType = type
            }
            sections.append(
                Section(
                    index: index, type: section.type, typeBytes: Array(section.type.utf8), table: section.table,
                    parentType: section.parentType, parentColumn: section.parentColumn, parentColumnSQLType: parentSQLType,
                    targets: targets, hasGID: schema.has("gid"), hasExtra: schema.columns["extra"] == "jsonb",
                    hasImportedAt: schema.has("imported_at"), hasDeletedAt: schema.has("deleted_at"),
                    hasUpdatedAt: targets.contains { $0.column == "updated_at" && $0.kind == .timestamp }, positional: positional,
                    memberTypes: section.memberTypes))
        }
        // Members one section maps and another only selects must still reach the other's `extra`.
        func topLevel(_ path: String) -> String { String(path.split(separator: ".", maxSplits: 1).first ?? "") }
        let covered = Set(sections.flatMap { $0.targets.map { topLevel($0.path) } })
        for i in sections.indices {
            let own = Set(sections[i].targets.map { topLevel($0.path) })
            for name in covered.subtracting(own).sorted() {
                let slot: Int
                if let existing = paths.firstIndex(of: name) {
                    slot = existing
                } else {
                    slot = paths.count
                    paths.append(name)
                }
                sections[i].foreignMembers.append((Array(name.utf8), slot))
            }
        }
        guard let root = sections.firstIndex(where: { $0.parentType == nil }) else {
            throw MappingError(file: file, message: "the mapping has no top-level type (one without 'child of')")
        }
        fieldPlan = try FieldPlan(paths: paths, collectUnmatched: true)
        idSlot = 0
        typenameSlot = 1
        parentSlot = 2
        self.sections = sections
        rootSection = root
    }

    /// The DDL of the staging table for a section (typed like the target, no constraints, dropped at commit).
    func stagingDDL(_ section: Section) -> String {
        var columns = ["id bigint", "gid text"]
        if let parentColumn = section.parentColumn, let type = section.parentColumnSQLType {
            columns.append("\(quoteIdent(parentColumn)) \(type)")
        }
        for target in section.targets { columns.append("\(quoteIdent(target.column)) \(target.sqlType)") }
        columns.append("extra jsonb")
        columns.append("sb_line bigint")
        return "CREATE TEMP TABLE \(section.stagingTable) (\(columns.joined(separator: ", "))) ON COMMIT DROP"
    }

    /// The column list of a section's COPY, in the order the encoder writes fields.
    func copyColumns(_ section: Section) -> [String] {
        var columns = ["id", "gid"]
        if let parentColumn = section.parentColumn { columns.append(quoteIdent(parentColumn)) }
        for target in section.targets { columns.append(quoteIdent(target.column)) }
        columns.append("extra")
        columns.append("sb_line")
        return columns
    }
}

/// Double-quotes an SQL identifier.
func quoteIdent(_ name: String) -> String {
    "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
