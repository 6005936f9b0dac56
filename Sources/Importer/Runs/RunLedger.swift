import Postgres

/// Writes `sync_runs`, the durable record of every bulk operation and load. Uses its own connection
/// (autocommit), so that what it records survives a rolled-back load.
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
        public var status: String

        public init(
            shopID: Int64, kind: String, resource: String, queryName: String, queryHash: String, windowField: String? = nil,
            windowStart: String? = nil, windowEnd: String? = nil, parentRunID: Int64? = nil, attempt: Int = 1, status: String = "planned"
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

    public func create(_ run: NewRun) throws -> Int64 {
        let row = try connection.query(
            """
            INSERT INTO sync_runs (shop_id, kind, resource, query_name, query_hash, window_field, window_start, window_end,
                                   parent_run_id, attempt, status)
            VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, $8::timestamptz, $9, $10, $11) RETURNING id
            """,
            [
                run.shopID, run.kind, run.resource, run.queryName, run.queryHash, run.windowField, run.windowStart, run.windowEnd,
                run.parentRunID.map { String($0) }, run.attempt, run.status,
            ], name: "create sync run")
        return try row.first!["id"].decode(Int64.self)
    }

    /// Marks a run failed with a message (never secrets or row data: callers pass error descriptions).
    public func fail(_ runID: Int64, code: String?, message: String, status: String = "failed") throws {
        try connection.query(
            "UPDATE sync_runs SET status = $2, error_code = $3, error_message = $4, updated_at = now() WHERE id = $1",
            [runID, status, code, String(message.prefix(2000))], name: "record run failure")
    }

    /// Sets arbitrary ledger columns of a run (values as text, cast by PostgreSQL).
    public func update(_ runID: Int64, _ fields: [String: (any PostgresBindable)?]) throws {
        guard !fields.isEmpty else { return }
        var sets: [String] = []
        var values: [any PostgresBindable] = [runID]
        for (column, value) in fields.sorted(by: { $0.key < $1.key }) {
            values.append(value?.postgresText)
            sets.append("\(column) = $\(values.count)")
        }
        try connection.query(
            "UPDATE sync_runs SET \(sets.joined(separator: ", ")), updated_at = now() WHERE id = $1", values, name: "update sync run")
    }
}
