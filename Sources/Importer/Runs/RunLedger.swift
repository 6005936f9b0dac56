import Failpoints
import Foundation
import Loader
import Postgres

/// Reads and writes `sync_runs` and `sync_state`, the durable record of every bulk operation and
/// load: the only place with their SQL. Writes are autocommitted on the connection it is given
/// (unless the caller opened a transaction), so that what it records survives a rolled-back load.
public struct RunLedger {
    let connection: PostgresConnection
    public init(connection: PostgresConnection) { self.connection = connection }

    /// What a new run is about.
    public struct NewRun: Sendable {
        public var shopID: Int64
        public var kind: String
        public var resource: String
        public var queryName: String
        public var queryHash: String
        public var windowField: String?
        public var windowStart: String?
        public var windowEnd: String?
        public var parentRunID: Int64?
        public var attempt: Int
        public var status: RunStatus

        public init(
            shopID: Int64, kind: String, resource: String, queryName: String, queryHash: String, windowField: String? = nil,
            windowStart: String? = nil, windowEnd: String? = nil, parentRunID: Int64? = nil, attempt: Int = 1,
            status: RunStatus = .planned
        ) {
            self.shopID = shopID
            self.kind = kind
            self.resource = resource
            self.queryName = queryName
            self.queryHash = queryHash
            self.windowField = windowField
            self.windowStart = windowStart
            self.windowEnd = windowEnd
            self.parentRunID = parentRunID
            self.attempt = attempt
            self.status = status
        }
    }

    /// A change to a run: the fields that are set are written, the others stay.
    public struct Change: Sendable {
        public var status: RunStatus?
        public var operationGID: String?
        public var shopifyStatus: String?
        public var submittedAt: Date?
        public var objectCount: Int64?
        public var rootObjectCount: Int64?
        public var fileSize: Int64?
        public var resultURL: String?
        public var urlExpiresAt: Date?
        public var completedAt: Date?
        public var bytesDownloaded: Int64?
        public var rowsLoaded: Int64?
        public var loadedAt: Date?
        public var errorCode: String?
        public var errorMessage: String?

        public init(
            status: RunStatus? = nil, operationGID: String? = nil, shopifyStatus: String? = nil, submittedAt: Date? = nil,
            objectCount: Int64? = nil, rootObjectCount: Int64? = nil, fileSize: Int64? = nil, resultURL: String? = nil,
            urlExpiresAt: Date? = nil, completedAt: Date? = nil, bytesDownloaded: Int64? = nil, rowsLoaded: Int64? = nil,
            loadedAt: Date? = nil, errorCode: String? = nil, errorMessage: String? = nil
        ) {
            self.status = status
            self.operationGID = operationGID
            self.shopifyStatus = shopifyStatus
            self.submittedAt = submittedAt
            self.objectCount = objectCount
            self.rootObjectCount = rootObjectCount
            self.fileSize = fileSize
            self.resultURL = resultURL
            self.urlExpiresAt = urlExpiresAt
            self.completedAt = completedAt
            self.bytesDownloaded = bytesDownloaded
            self.rowsLoaded = rowsLoaded
            self.loadedAt = loadedAt
            self.errorCode = errorCode
            self.errorMessage = errorMessage
        }

        /// Column name and value of every field that is set, in a fixed order.
        var assignments: [(column: String, cast: String, value: String)] {
            var a: [(String, String, String)] = []
            func add(_ column: String, _ cast: String, _ value: String?) { if let value { a.append((column, cast, value)) } }
            add("status", "text", status?.rawValue)
            add("operation_gid", "text", operationGID)
            add("shopify_status", "text", shopifyStatus)
            add("submitted_at", "timestamptz", submittedAt.map(Timestamp.text))
            add("object_count", "bigint", objectCount.map(String.init))
            add("root_object_count", "bigint", rootObjectCount.map(String.init))
            add("file_size", "bigint", fileSize.map(String.init))
            add("result_url", "text", resultURL)
            add("url_expires_at", "timestamptz", urlExpiresAt.map(Timestamp.text))
            add("completed_at", "timestamptz", completedAt.map(Timestamp.text))
            add("bytes_downloaded", "bigint", bytesDownloaded.map(String.init))
            add("rows_loaded", "bigint", rowsLoaded.map(String.init))
            add("loaded_at", "timestamptz", loadedAt.map(Timestamp.text))
            add("error_code", "text", errorCode)
            add("error_message", "text", errorMessage.map { String($0.prefix(2000)) })
            return a
        }
    }

    // MARK: - Runs

    @discardableResult
    public func create(_ run: NewRun) throws -> Int64 {
        let row = try connection.query(
            """
            INSERT INTO sync_runs (shop_id, kind, resource, query_name, query_hash, window_field, window_start, window_end,
                                   parent_run_id, attempt, status)
            VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, $8::timestamptz, $9, $10, $11) RETURNING id
            """,
            [
                run.shopID, run.kind, run.resource, run.queryName, run.queryHash, run.windowField, run.windowStart, run.windowEnd,
                run.parentRunID.map { String($0) }, run.attempt, run.status.rawValue,
            ], name: "create sync run")
        guard let id = row.first?["id"].int64 else { throw ShopError(.ledgerInconsistent, "creating a sync run returned no id") }
        return id
    }

    /// Writes the fields `change` sets; with `onlyIf`, only while the run's status is one of those
    /// (a compare-and-set: a run another session moved on is left alone). Returns whether it wrote.
    @discardableResult
    public func record(_ runID: Int64, _ change: Change, onlyIf: Set<RunStatus>? = nil) throws -> Bool {
        let assignments = change.assignments
        guard !assignments.isEmpty else { return false }
        var sets: [String] = []
        var values: [any PostgresBindable] = [runID]
        for a in assignments {
            values.append(a.value)
            sets.append("\(a.column) = $\(values.count)::\(a.cast)")
        }
        var condition = ""
        if let onlyIf {
            values.append(RunStatus.arrayParameter(onlyIf))
            condition = " AND status = ANY($\(values.count)::text[])"
        }
        return try connection.query(
            "UPDATE sync_runs SET \(sets.joined(separator: ", ")), updated_at = now() WHERE id = $1\(condition)", values,
            name: "update sync run"
        ).affectedRows > 0
    }

    /// Marks a run failed with a message (never secrets or row data: callers pass error descriptions).
    public func fail(_ runID: Int64, code: String?, message: String, status: RunStatus = .failed) throws {
        try connection.query(
            "UPDATE sync_runs SET status = $2, error_code = $3, error_message = $4, updated_at = now() WHERE id = $1",
            [runID, status.rawValue, code, String(message.prefix(2000))], name: "record run failure")
    }

    func load(_ id: Int64) throws -> RunRecord {
        guard let row = try connection.query("SELECT \(RunRecord.columns) FROM sync_runs WHERE id = $1", [id], name: "read sync run").first
        else {
            throw ShopError(.ledgerInconsistent, "sync run \(id) vanished")
        }
        return try RunRecord(row: row)
    }

    /// Window runs of a shop that a run of the same import picks up again, oldest first.
    func resumable(shopID: Int64, kinds: [String], resources: [String]) throws -> [RunRecord] {
        try connection.query(
            """
            SELECT \(RunRecord.columns) FROM sync_runs
            WHERE shop_id = $1 AND kind = ANY($2::text[]) AND parent_run_id IS NOT NULL AND status = ANY($3::text[])
              AND resource = ANY($4::text[])
            ORDER BY id
            """, [shopID, kinds, RunStatus.arrayParameter(RunStatus.resumable), resources], name: "find open runs"
        ).map(RunRecord.init)
    }

    /// The error code recorded on a run (`CANCELED_BY_USER` once `cancel` touched it).
    func errorCode(_ runID: Int64) throws -> String? {
        try connection.query("SELECT error_code FROM sync_runs WHERE id = $1", [runID], name: "read error code").first?["error_code"]
            .string
    }

    /// Retires `run` and creates `successors` in its place, in one transaction: a crash never loses
    /// the window. Returns the successors' ids.
    func replace(_ run: RunRecord, with successors: [NewRun], status: RunStatus, code: String?, message: String?) throws -> [Int64] {
        precondition(RunStatus.replaced.contains(status), "a replaced run is superseded or retried")
        return try connection.transaction {
            var ids: [Int64] = []
            for (n, successor) in successors.enumerated() {
                ids.append(try create(successor))
                if n == 0 { Failpoint.hit("ledger.replace") }
            }
            try record(run.id, Change(status: status, errorCode: code, errorMessage: message))
            return ids
        }
    }

    /// Operation ids this shop's runs already stand for (for adopting one submitted before a crash).
    func knownOperations(shopID: Int64) throws -> Set<String> {
        Set(
            try connection.query(
                "SELECT operation_gid FROM sync_runs WHERE shop_id = $1 AND operation_gid IS NOT NULL", [shopID], name: "known operations"
            ).compactMap { $0["operation_gid"].string })
    }

    /// This tool's runs of a shop whose operations may still run at Shopify.
    func cancelable(shopID: Int64) throws -> [(id: Int64, operation: String)] {
        try connection.query(
            "SELECT id, operation_gid FROM sync_runs WHERE shop_id = $1 AND operation_gid IS NOT NULL AND status = ANY($2::text[]) ORDER BY id",
            [shopID, RunStatus.arrayParameter(RunStatus.atShopify)], name: "find running operations"
        ).compactMap { row in row["id"].int64.flatMap { id in row["operation_gid"].string.map { (id, $0) } } }
    }

    // MARK: - Parents (a whole full or delta import)

    /// The open parent run of a shop's import of `resource` and the end of its window (the snapshot).
    func openParent(shopID: Int64, kind: String, resource: String) throws -> (id: Int64, windowEnd: Date)? {
        guard
            let row = try connection.query(
                """
                SELECT id, extract(epoch FROM window_end)::text AS we FROM sync_runs
                WHERE shop_id = $1 AND kind = $2 AND resource = $3 AND parent_run_id IS NULL AND status = 'running'
                ORDER BY id DESC LIMIT 1
                """, [shopID, kind, resource], name: "find open import"
            ).first
        else { return nil }
        let id = try row["id"].decode(Int64.self)
        // A parent whose snapshot cannot be read must stop the import: guessing one (now) would move
        // the high-water mark past changes no window covered.
        guard let end = Timestamp.fromEpoch(row["we"].string) else {
            throw ShopError(
                .ledgerInconsistent, "sync run \(id) (the open \(kind) import of \(resource)) has no readable window end; cannot resume it")
        }
        return (id, end)
    }

    /// Gives every window of `parent` that failed or was canceled a fresh attempt.
    func retryUnsuccessful(parent: Int64) throws -> Int {
        try connection.transaction {
            let stuck = try connection.query(
                "SELECT \(RunRecord.columns) FROM sync_runs WHERE parent_run_id = $1 AND status = ANY($2::text[]) ORDER BY id",
                [parent, RunStatus.arrayParameter(RunStatus.unsuccessful)], name: "find failed windows"
            ).map(RunRecord.init)
            for run in stuck {
                try create(run.successor(window: run.window, parentRunID: parent, attempt: 1))
                try record(run.id, Change(status: .retried))
            }
            return stuck.count
        }
    }

    /// Windows of `parent` whose status is in `statuses` (`blocksCompletion`: unfinished; `done`: loaded).
    func windows(parent: Int64, in statuses: Set<RunStatus>) throws -> Int {
        try connection.query(
            "SELECT count(*) AS n FROM sync_runs WHERE parent_run_id = $1 AND status = ANY($2::text[])",
            [parent, RunStatus.arrayParameter(statuses)], name: "count windows"
        ).first?["n"].int ?? 0
    }

    /// Closes a parent: loaded, with the rows its windows loaded.
    func closeParent(_ parent: Int64) throws {
        try connection.query(
            """
            UPDATE sync_runs p SET status = 'loaded', loaded_at = now(), updated_at = now(),
                rows_loaded = (SELECT coalesce(sum(rows_loaded), 0) FROM sync_runs c
                               WHERE c.shop_id = p.shop_id AND c.parent_run_id = p.id AND c.status = ANY($2::text[])),
                bytes_downloaded = (SELECT coalesce(sum(bytes_downloaded), 0) FROM sync_runs c
                                    WHERE c.shop_id = p.shop_id AND c.parent_run_id = p.id AND c.status = ANY($2::text[]))
            WHERE id = $1
            """, [parent, RunStatus.arrayParameter(RunStatus.done)], name: "close import")
    }

    /// The parent's open delta runs of a shop (one per resource).
    func openDeltaParents(shopID: Int64) throws -> [(id: Int64, resource: String, windowEnd: Date)] {
        try connection.query(
            """
            SELECT id, resource, extract(epoch FROM window_end)::text AS we FROM sync_runs
            WHERE shop_id = $1 AND kind = 'delta' AND parent_run_id IS NULL AND status = 'running' ORDER BY id
            """, [shopID], name: "find open deltas"
        ).map { row in
            let id = try row["id"].decode(Int64.self)
            guard let end = Timestamp.fromEpoch(row["we"].string) else {
                throw ShopError(.ledgerInconsistent, "sync run \(id) (an open delta import) has no readable window end; cannot finish it")
            }
            return (id, try row["resource"].decode(String.self), end)
        }
    }

    // MARK: - High-water marks

    /// The committed mark of a resource and whether its full import finished.
    func highWater(shopID: Int64, resource: String) throws -> (mark: Date?, fullImportDone: Bool)? {
        guard
            let row = try connection.query(
                """
                SELECT extract(epoch FROM high_water_updated_at)::text AS hw, full_import_done_at IS NOT NULL AS full
                FROM sync_state WHERE shop_id = $1 AND resource = $2
                """, [shopID, resource], name: "read high-water mark"
            ).first
        else { return nil }
        return (Timestamp.fromEpoch(row["hw"].string), row["full"].bool == true)
    }

    /// A finished full import: the mark is the plan's snapshot time.
    func recordFullImportDone(shopID: Int64, resource: String, snapshot: Date, parent: Int64) throws {
        try connection.query(
            """
            INSERT INTO sync_state (shop_id, resource, high_water_updated_at, high_water_id, last_run_id, full_import_done_at, updated_at)
            VALUES ($1, $2, $3::timestamptz, 0, $4, now(), now())
            ON CONFLICT (shop_id, resource) DO UPDATE SET high_water_updated_at = EXCLUDED.high_water_updated_at,
                high_water_id = 0, last_run_id = EXCLUDED.last_run_id, full_import_done_at = now(), updated_at = now()
            """, [shopID, resource, Timestamp.text(snapshot), parent], name: "record full import done")
    }

    /// A finished delta: the mark moves to its snapshot, never back.
    func advanceHighWater(shopID: Int64, resource: String, to snapshot: Date, run: Int64) throws {
        try connection.query(
            """
            UPDATE sync_state SET high_water_updated_at = $3::timestamptz, high_water_id = 0, last_run_id = $4, updated_at = now()
            WHERE shop_id = $1 AND resource = $2 AND (high_water_updated_at IS NULL OR high_water_updated_at < $3::timestamptz)
            """, [shopID, resource, Timestamp.text(snapshot), run], name: "advance high-water mark to the delta snapshot")
    }
}
