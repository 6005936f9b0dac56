import Failpoints
import Foundation
import JSONL
import Logging
import Postgres

/// What a load did.
public struct LoadSummary: Sendable {
    public var lines: Int = 0
    public var bytes: Int = 0
    /// Rows inserted or updated, per table.
    public var rows: [String: Int] = [:]
    /// Lines of types no section maps, kept in `bulk_records`.
    public var otherRows: Int = 0
    /// Child lines whose parent is neither in the file nor in the database, kept in `bulk_records`.
    public var orphans: [String: Int] = [:]
    /// Child rows removed because their parent in this file no longer has them.
    public var removedChildren: [String: Int] = [:]
    public var rejected: Int = 0
    public var highWaterUpdatedAt: String?
    public var highWaterID: Int64?
    public var seconds: Double = 0

    public var rowsLoaded: Int { rows.values.reduce(0, +) + otherRows }
}

/// Options of one load.
public struct LoadOptions: Sendable {
    /// Bad lines that may be skipped (recorded in `rejected_records`); 0 fails on the first.
    public var maxRejects: Int = 0
    /// Remove child rows (line items) of loaded parents that the file no longer lists. Off for partial
    /// data, which may lack children.
    public var removeMissingChildren: Bool = true
    /// Bytes per COPY segment handed to the sender thread.
    public var segmentSize: Int = 1 << 20
    /// Move `sync_state`'s high-water mark to the greatest (updated_at, id) loaded. The import engine
    /// sets marks itself for full imports (their snapshot time); a file loaded by hand says nothing
    /// about changes that are not in it, so `shopbulk load` leaves the mark alone unless asked.
    public var advanceHighWater: Bool = true
    /// Records the plan of every merge statement (`EXPLAIN`), for tests that check plans.
    public var planRecorder: PlanRecorder?
    public init(maxRejects: Int = 0, removeMissingChildren: Bool = true, advanceHighWater: Bool = true) {
        self.maxRejects = maxRejects
        self.removeMissingChildren = removeMissingChildren
        self.advanceHighWater = advanceHighWater
    }
}

/// Collects `EXPLAIN (FORMAT JSON)` output of a load's merge statements.
public final class PlanRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [(name: String, plan: String)] = []
    public init() {}
    func record(name: String, plan: String) {
        lock.lock()
        recorded.append((name, plan))
        lock.unlock()
    }
    /// Statement name and JSON plan, in the order they ran.
    public var plans: [(name: String, plan: String)] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }
}

/// Loads one bulk result into the mirror tables: lines stream into staging tables with `COPY` while
/// they are parsed (on another thread), then one transaction upserts them, removes vanished children,
/// keeps unmapped lines, records rejects, and advances `sync_state` and the run's `sync_runs` row.
/// Nothing is committed unless all of it succeeds.
///
/// Feed it chunks in order (`feed`), then `finish()`; on any error call `abort()` (or just drop it —
/// the transaction is rolled back).
public final class BulkLoader {
    let connection: PostgresConnection
    /// Asks the server to cancel the statement running on the loader's connection (from any thread).
    public func cancelRunning() { connection.requestCancel() }
    let plan: LoadPlan
    let shopID: Int64
    let runID: Int64
    let source: String
    let options: LoadOptions
    let logger: Logger
    private var parser: JSONLParser
    private var encoder: RowEncoder
    private var pipeline: CopyPipeline?
    private var current: [Int: Segment] = [:]
    private var rejects: [(line: Int, offset: Int, reason: String, raw: [UInt8])] = []
    private var lines = 0
    private var started = ContinuousClock.now
    private var inTransaction = false
    private var done = false

    /// Runs one statement of the merge; with `LoadOptions.planRecorder` set, records its plan first.
    @discardableResult
    private func mergeStatement(_ sql: String, _ parameters: [any PostgresBindable], name: String) throws(PostgresError) -> PostgresResult {
        if let recorder = options.planRecorder {
            let plan = try connection.query("EXPLAIN (FORMAT JSON) " + sql, parameters, name: "explain \(name)")
            recorder.record(name: name, plan: plan.first?[0].string ?? "")
        }
        return try connection.query(sql, parameters, name: name)
    }

    /// Resolves `mapping` against the database (errors name the query file and line).
    public init(
        connection: PostgresConnection, mapping: Mapping, queryFile: String, shopID: Int64, runID: Int64, source: String,
        options: LoadOptions = LoadOptions(), logger: Logger = Logger(label: "shopbulk.loader")
    ) throws {
        self.connection = connection
        self.plan = try LoadPlan(mapping: mapping, file: queryFile, on: connection)
        self.shopID = shopID
        self.runID = runID
        self.source = source
        self.options = options
        self.logger = logger
        self.parser = JSONLParser(plan: plan.fieldPlan, options: .init(invalidLines: .report))
        self.encoder = RowEncoder(plan: plan)
    }

    deinit {
        encoder.release()
        // Owners abort a failed load themselves (BulkJob.deliver); this is the last resort, and a
        // connection that its session already closed took the transaction with it.
        if !done {
            if connection.isClosed { inTransaction = false }
            abort()
        }
    }

    /// Opens the transaction, creates the staging tables and starts the sender thread.
    public func begin() throws {
        started = .now
        try connection.execute("BEGIN", name: "begin load")
        inTransaction = true
        var copySQL: [Int: String] = [:]
        for section in plan.sections {
            try connection.execute(plan.stagingDDL(section), name: "create staging for \(section.table)")
            copySQL[section.index] = "COPY \(section.stagingTable) (\(plan.copyColumns(section).joined(separator: ", "))) FROM STDIN"
        }
        try connection.execute(
            "CREATE TEMP TABLE sb_stage_other (gid text, type text, parent_gid text, data jsonb, sb_line bigint) ON COMMIT DROP",
            name: "create staging for other types")
        copySQL[RowEncoder.otherSection] = "COPY sb_stage_other (gid, type, parent_gid, data, sb_line) FROM STDIN"
        let pipeline = CopyPipeline(
            connection: connection, copySQL: copySQL, spareSegments: plan.sections.count + 5, segmentSize: options.segmentSize)
        pipeline.start()
        self.pipeline = pipeline
    }

    /// Parses a chunk of the input (any size, split anywhere) and queues its rows.
    public func feed(_ chunk: UnsafeRawBufferPointer) throws {
        do {
            try parser.feed(chunk) { line in try self.handle(line) }
        } catch {
            abort()
            throw error
        }
    }

    /// Ends the input, merges everything in one transaction and commits.
    @discardableResult
    public func finish() throws -> LoadSummary {
        do {
            try parser.finish { line in try self.handle(line) }
            for (_, segment) in current where segment.buffer.count > 0 { try pipeline?.submit(segment) }
            current.removeAll()
            try pipeline?.close()
            pipeline = nil
            var summary = try merge()
            Failpoint.hit("merge.before-commit")
            try connection.execute("COMMIT", name: "commit load")
            inTransaction = false
            done = true
            summary.lines = lines
            summary.bytes = parser.bytesRead
            summary.seconds =
                Double((ContinuousClock.now - started).components.attoseconds) / 1e18
                + Double((ContinuousClock.now - started).components.seconds)
            return summary
        } catch {
            abort()
            throw error
        }
    }

    /// Stops and rolls back; nothing of this load stays.
    public func abort() {
        pipeline?.abandon()
        pipeline = nil
        if inTransaction {
            _ = try? connection.execute("ROLLBACK", name: "roll back load")
            inTransaction = false
        }
        done = true
    }

    // MARK: - Per line

    private func handle(_ line: borrowing JSONLLine) throws {
        lines = line.number
        if let error = line.error {
            try reject(line, reason: error.reason, column: error.column, code: .malformedLine)
            return
        }
        let section: Int?
        let id: JSONLField
        do throws(RowRejection) {
            (section, id) = try encoder.route(line)
        } catch {
            try reject(line, reason: error.reason, column: nil, code: .badRecord)
            return
        }
        let key = section ?? RowEncoder.otherSection
        let segment: Segment
        if let existing = current[key] {
            segment = existing
        } else {
            segment = try pipeline!.take(section: key)
            current[key] = segment
        }
        do throws(RowRejection) {
            if let section {
                try encoder.encode(line, section: section, id: id, into: &segment.buffer)
            } else {
                try encoder.encodeOther(line, id: id, into: &segment.buffer)
            }
        } catch {
            try reject(line, reason: error.reason, column: nil, code: .badRecord)
            return
        }
        if segment.buffer.count >= options.segmentSize {
            current[key] = nil
            try pipeline!.submit(segment)
        }
    }

    private func reject(_ line: borrowing JSONLLine, reason: String, column: Int?, code: LoadError.Code) throws {
        if rejects.count >= options.maxRejects {
            let limit = options.maxRejects == 0 ? "" : " (more than --max-rejects \(options.maxRejects) bad lines)"
            throw LoadError(
                code: options.maxRejects == 0 ? code : .tooManyRejects, source: source, line: line.number,
                byteOffset: line.byteOffset + max(0, (column ?? 1) - 1), column: column, reason: reason + limit)
        }
        rejects.append((line.number, line.byteOffset, reason, Array(line.bytes)))
        logger.warning(
            "skipped a bad line",
            metadata: ["source": "\(source)", "line": "\(line.number)", "offset": "\(line.byteOffset)", "reason": "\(reason)"])
    }

    // MARK: - Merge (one transaction)

    private func merge() throws -> LoadSummary {
        var summary = LoadSummary()
        let shop = shopID
        // Which target tables hold no row of this shop yet (one index probe each): the first import of
        // a shop takes cheaper paths below, each equivalent to the general one.
        var emptyForShop: Set<String> = []
        for section in plan.sections {
            let probe = try connection.query(
                "SELECT NOT EXISTS (SELECT 1 FROM \(quoteIdent(section.table)) WHERE shop_id = $1) AS empty", [shop],
                name: "probe \(section.table) for rows of the shop")
            if probe.first?["empty"].bool == true { emptyForShop.insert(section.table) }
        }
        try prepareStaging(firstImportOf: emptyForShop)
        // Children whose parent is neither in this file nor already loaded: keep them, report them.
        for section in plan.sections where !section.positional {
            guard let parentType = section.parentType, let parentColumn = section.parentColumn,
                let parent = plan.sections.first(where: { $0.type == parentType })
            else { continue }
            let moved = try mergeStatement(
                """
                WITH orphans AS (
                    DELETE FROM \(section.stagingTable) s
                    WHERE NOT EXISTS (SELECT 1 FROM \(parent.stagingTable) p WHERE p.id = s.\(quoteIdent(parentColumn)))
                      AND NOT EXISTS (SELECT 1 FROM \(quoteIdent(parent.table)) t WHERE t.shop_id = $1 AND t.id = s.\(quoteIdent(parentColumn)))
                    RETURNING s.*
                )
                INSERT INTO bulk_records (shop_id, gid, type, parent_gid, data, run_id)
                SELECT DISTINCT ON (gid) $1, gid, $2, 'gid://shopify/' || $3 || '/' || \(quoteIdent(parentColumn)), to_jsonb(o) - 'sb_line', $4::bigint
                FROM orphans o ORDER BY gid, sb_line DESC
                ON CONFLICT (shop_id, gid) DO UPDATE SET type = EXCLUDED.type, parent_gid = EXCLUDED.parent_gid,
                    data = EXCLUDED.data, run_id = EXCLUDED.run_id, imported_at = now()
                """, [shop, section.type, parentType, runID], name: "keep orphaned \(section.type) lines")
            if moved.affectedRows > 0 {
                summary.orphans[section.type] = moved.affectedRows
                logger.warning(
                    "child lines name a parent that is neither in this file nor in the database; kept in bulk_records",
                    metadata: ["type": "\(section.type)", "parent": "\(parentType)", "count": "\(moved.affectedRows)"])
            }
        }
        // Parents before children.
        let ordered = plan.sections.sorted { ($0.parentType == nil ? 0 : 1, $0.index) < ($1.parentType == nil ? 0 : 1, $1.index) }
        for section in ordered {
            if section.positional {
                let removeMissing = options.removeMissingChildren && rejects.isEmpty
                summary.rows[section.table, default: 0] += try replaceIdless(section, removeMissing: removeMissing, summary: &summary)
                continue
            }
            summary.rows[section.table, default: 0] += try upsert(section, tableWasEmpty: emptyForShop.contains(section.table))
        }
        // A skipped (rejected) child line must not make its existing row look vanished.
        if options.removeMissingChildren && rejects.isEmpty {
            for section in plan.sections where !section.positional {
                guard let parentType = section.parentType, let parentColumn = section.parentColumn,
                    let parent = plan.sections.first(where: { $0.type == parentType })
                else { continue }
                // With no row of this shop in the table before the upsert, every row it now has for the
                // file's parents came from this file: nothing can have vanished.
                if emptyForShop.contains(section.table) { continue }
                // Only parents whose stored row is the version in this file (a stale file must not
                // remove children a newer version has), materialised with an index and statistics so
                // that the DELETE below probes indexes whatever the target tables' statistics say.
                let current =
                    parent.hasUpdatedAt
                    ? "SELECT p.id FROM \(parent.stagingTable) p JOIN \(quoteIdent(parent.table)) t ON t.shop_id = $1 AND t.id = p.id AND t.updated_at IS NOT DISTINCT FROM p.updated_at"
                    : "SELECT id FROM \(parent.stagingTable) WHERE $1::bigint IS NOT NULL"
                let parents = "sb_current_\(section.index)"
                try connection.execute(
                    "CREATE TEMP TABLE \(parents) (id bigint) ON COMMIT DROP", name: "create current parents of \(section.type)")
                try mergeStatement("INSERT INTO \(parents) \(current)", [shop], name: "collect current parents of \(section.type)")
                try connection.execute("CREATE INDEX ON \(parents) (id)", name: "index current parents of \(section.type)")
                try connection.execute("ANALYZE \(parents)", name: "analyze current parents of \(section.type)")
                let removed = try mergeStatement(
                    """
                    DELETE FROM \(quoteIdent(section.table)) c USING \(parents) p
                    WHERE c.shop_id = $1 AND c.\(quoteIdent(parentColumn)) = p.id
                      AND NOT EXISTS (SELECT 1 FROM \(section.stagingTable) s WHERE s.id = c.id)
                    """, [shop], name: "remove vanished \(section.type) rows")
                if removed.affectedRows > 0 { summary.removedChildren[section.table] = removed.affectedRows }
            }
        }
        let other = try mergeStatement(Self.otherRecordsSQL, [shop, runID], name: "keep lines of unmapped types")
        summary.otherRows = other.affectedRows
        for reject in rejects {
            try connection.query(
                """
                INSERT INTO rejected_records (run_id, shop_id, source, line_number, byte_offset, reason, raw_line)
                VALUES ($1, $2, $3, $4, $5, $6, decode($7, 'hex'))
                """,
                [runID, shop, source, reject.line, reject.offset, reject.reason, reject.raw.map { String(format: "%02x", $0) }.joined()],
                name: "record rejected line")
        }
        summary.rejected = rejects.count
        try refreshParentStatistics(summary)
        // The high-water mark: the greatest (updated_at, id) of the top-level type, never moving back.
        let root = plan.sections[plan.rootSection]
        if root.hasUpdatedAt && options.advanceHighWater {
            let mark = try connection.query(
                """
                INSERT INTO sync_state AS s (shop_id, resource, high_water_updated_at, high_water_id, last_run_id, updated_at)
                SELECT $1, $2, updated_at, id, $3::bigint, now()
                FROM (SELECT updated_at, id FROM \(root.stagingTable) WHERE updated_at IS NOT NULL ORDER BY updated_at DESC, id DESC LIMIT 1) m
                ON CONFLICT (shop_id, resource) DO UPDATE
                SET high_water_updated_at = EXCLUDED.high_water_updated_at, high_water_id = EXCLUDED.high_water_id,
                    last_run_id = EXCLUDED.last_run_id, updated_at = now()
                WHERE s.high_water_updated_at IS NULL
                   OR (s.high_water_updated_at, s.high_water_id) < (EXCLUDED.high_water_updated_at, EXCLUDED.high_water_id)
                RETURNING to_char(high_water_updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at, high_water_id AS id
                """, [shop, root.table, runID], name: "advance high-water mark")
            summary.highWaterUpdatedAt = mark.first?["at"].string
            summary.highWaterID = mark.first?["id"].int64
        }
        try connection.query(
            """
            UPDATE sync_runs SET status = $2, rows_loaded = $3, rows_rejected = $4, loaded_at = now(), updated_at = now()
            WHERE id = $1
            """, [runID, rejects.isEmpty ? "loaded" : "partial", summary.rowsLoaded, rejects.count], name: "record the load in sync_runs")
        return summary
    }

    /// Indexes and analyses the staging tables once their COPY is done, before any statement probes them.
    ///
    /// Temporary tables are never analysed by autovacuum, and the target tables' statistics are whatever
    /// the last (auto)ANALYZE saw — often nothing of what the previous load committed. With no index on
    /// a staging table, a planner that believes one side of a join holds a single row picks a nested
    /// loop that scans the staging table once per target row: a re-load right after a load of 20,000
    /// orders took minutes in the vanished-children removal. With every probed staging key indexed and
    /// the staging row counts known, each plan the planner can pick is an index probe or a hash per row,
    /// never a scan per row.
    private func prepareStaging(firstImportOf empty: Set<String>) throws {
        for section in plan.sections {
            var keys = ["id"]
            // Probed by id: parents (by the orphan check and the current-parents join) and, unless this
            // is the first import of the shop's table (nothing can have vanished), children (by the
            // vanished-children removal).
            let isParent = plan.sections.contains { $0.parentType == section.type }
            if isParent || section.parentType == nil || !empty.contains(section.table) {
                try connection.execute("CREATE INDEX ON \(section.stagingTable) (id)", name: "index staging of \(section.table)")
            }
            if let parentColumn = section.parentColumn { keys.append(quoteIdent(parentColumn)) }
            if section.hasUpdatedAt { keys.append("updated_at") }
            // The row count comes with any ANALYZE; sampling only the probed keys keeps it cheap (the
            // wide text and jsonb columns cost ten times more and no plan looks at them).
            try connection.execute(
                "ANALYZE \(section.stagingTable) (\(keys.joined(separator: ", ")))", name: "analyze staging of \(section.table)")
        }
    }

    /// Guards the deferred foreign-key checks that run at COMMIT against misleading planner statistics.
    ///
    /// A child table's foreign key is checked row by row at COMMIT with a query on the parent table that
    /// is planned then. When the parent's statistics describe a table far smaller than what this load
    /// put into it — typically an (auto)ANALYZE that ran during the load, saw only our uncommitted rows
    /// and recorded `reltuples = 0` for thousands of pages — the planner may pick an index that does not
    /// cover the key, and each check scans the shop's whole table: a 100k-order first import then took
    /// over 15 minutes in COMMIT. `ANALYZE` inside the transaction counts our rows (it sets `reltuples` and
    /// `relpages` whatever columns it samples), and holds its lock
    /// until COMMIT so that no concurrent ANALYZE undoes it. Skipped when the statistics are fine.
    private func refreshParentStatistics(_ summary: LoadSummary) throws {
        var parents: Set<String> = []
        for section in plan.sections where section.parentType != nil && (summary.rows[section.table] ?? 0) > 0 {
            if let parent = plan.sections.first(where: { $0.type == section.parentType }) { parents.insert(parent.table) }
        }
        for table in parents.sorted() {
            let loaded = summary.rows[table] ?? 0
            guard loaded >= 1000 else { continue }
            let stats = try connection.query(
                "SELECT reltuples::float8 AS tuples FROM pg_class WHERE oid = to_regclass($1)", [quoteIdent(table)],
                name: "read statistics of \(table)")
            let tuples = stats.first?["tuples"].string.flatMap { Double($0) } ?? -1
            guard tuples < Double(loaded) / 2 else { continue }
            logger.debug(
                "refreshing planner statistics before the foreign-key checks", metadata: ["table": "\(table)", "reltuples": "\(tuples)"])
            // Only the key columns the checks filter on: sampling the wide ones (jsonb, text) costs more.
            try connection.execute("ANALYZE \(quoteIdent(table)) (shop_id, id)", name: "analyze \(table)")
        }
    }

    /// Upserts a section's staging rows; when the file holds one id twice, the last line wins.
    ///
    /// When the table held no row of the shop (`tableWasEmpty`), a plain `INSERT … SELECT` is tried
    /// first: it succeeds only if no staged id exists in the table and none is staged twice, and then
    /// stores exactly what the upsert would (whose `DO UPDATE` never fires in that case), without the
    /// per-row conflict probe. Any unique violation rolls it back and the general path runs.
    private func upsert(_ section: LoadPlan.Section, tableWasEmpty: Bool = false) throws -> Int {
        var insertColumns = ["shop_id", "id"]
        var selectColumns = ["$1::bigint", "id"]
        var updates: [String] = []
        if section.hasGID {
            insertColumns.append("gid")
            selectColumns.append("gid")
            updates.append("gid = EXCLUDED.gid")
        }
        if let parentColumn = section.parentColumn {
            insertColumns.append(quoteIdent(parentColumn))
            selectColumns.append(quoteIdent(parentColumn))
            updates.append("\(quoteIdent(parentColumn)) = EXCLUDED.\(quoteIdent(parentColumn))")
        }
        for target in section.targets {
            insertColumns.append(quoteIdent(target.column))
            selectColumns.append(quoteIdent(target.column))
            updates.append("\(quoteIdent(target.column)) = EXCLUDED.\(quoteIdent(target.column))")
        }
        if section.hasExtra {
            insertColumns.append("extra")
            selectColumns.append("extra")
            updates.append("extra = EXCLUDED.extra")
        }
        if section.hasImportedAt {
            insertColumns.append("imported_at")
            selectColumns.append("now()")
            updates.append("imported_at = EXCLUDED.imported_at")
        }
        if section.hasDeletedAt { updates.append("deleted_at = NULL") }
        let head = "INSERT INTO \(quoteIdent(section.table)) AS t (\(insertColumns.joined(separator: ", ")))"
        // Never let an older version of a record overwrite a newer one (a stale file, a late resume).
        let guardStale =
            section.hasUpdatedAt ? " WHERE t.updated_at IS NULL OR EXCLUDED.updated_at IS NULL OR EXCLUDED.updated_at >= t.updated_at" : ""
        let tail = "ON CONFLICT (shop_id, id) DO UPDATE SET \(updates.joined(separator: ", "))\(guardStale)"
        let plain = "\(head) SELECT \(selectColumns.joined(separator: ", ")) FROM \(section.stagingTable) \(tail)"
        let deduplicated =
            "\(head) SELECT DISTINCT ON (id) \(selectColumns.joined(separator: ", ")) FROM \(section.stagingTable) ORDER BY id, sb_line DESC \(tail)"
        // Inside the load's transaction: a savepoint lets the duplicate case retry without losing the rest.
        try connection.execute("SAVEPOINT sb_upsert", name: "savepoint")
        if tableWasEmpty {
            let insertOnly = "\(head) SELECT \(selectColumns.joined(separator: ", ")) FROM \(section.stagingTable)"
            do {
                let inserted = try mergeStatement(insertOnly, [shopID], name: "insert \(section.table)").affectedRows
                try connection.execute("RELEASE SAVEPOINT sb_upsert", name: "release savepoint")
                return inserted
            } catch {
                // 23505: an id is staged twice, or another session stored one meanwhile: do the general upsert.
                guard error.sqlState == "23505" else { throw error }
                try connection.execute("ROLLBACK TO SAVEPOINT sb_upsert", name: "rollback to savepoint")
            }
        }
        var duplicateIDs = false
        var affected = 0
        do {
            affected = try mergeStatement(plain, [shopID], name: "upsert \(section.table)").affectedRows
        } catch {
            // "ON CONFLICT DO UPDATE command cannot affect row a second time": an id appears twice.
            guard error.sqlState == "21000" else { throw error }
            duplicateIDs = true
        }
        if duplicateIDs {
            try connection.execute("ROLLBACK TO SAVEPOINT sb_upsert", name: "rollback to savepoint")
            logger.notice("the file lists some \(section.type) ids more than once; the last line of each wins")
            affected = try mergeStatement(deduplicated, [shopID], name: "upsert \(section.table) (deduplicated)").affectedRows
        }
        try connection.execute("RELEASE SAVEPOINT sb_upsert", name: "release savepoint")
        return affected
    }
}

extension BulkLoader {
    /// Loads a whole file, read in 1 MiB chunks.
    public func load(file path: String) throws -> LoadSummary {
        let fd = path == "-" ? 0 : open(path, O_RDONLY)
        guard fd >= 0 else {
            throw LoadError(code: .input, source: path, reason: "cannot open the file: \(String(cString: strerror(errno)))")
        }
        defer { if fd != 0 { close(fd) } }
        try begin()
        let size = 1 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer, size)
            if n < 0 {
                if errno == EINTR { continue }
                abort()
                throw LoadError(code: .input, source: path, reason: "read failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            try feed(UnsafeRawBufferPointer(start: buffer, count: n))
        }
        return try finish()
    }
}
