import BulkQueries
import Foundation
import Loader
import Postgres

/// A `sync_runs` row as the engine needs it.
struct RunRecord: Sendable {
    var id: Int64
    var shopID: Int64
    var kind: String
    var resource: String
    var queryName: String
    var queryHash: String
    var window: QueryWindow?
    var parentRunID: Int64?
    var attempt: Int
    var status: RunStatus
    var operationGID: String?
    var submittedAt: Date?
    var resultURL: String?
    var urlExpiresAt: Date?
    var fileSize: Int64?
    var objectCount: Int64?

    static let columns = """
        id, shop_id, kind, resource, query_name, query_hash, window_field,
        extract(epoch FROM window_start)::text AS ws, extract(epoch FROM window_end)::text AS we,
        parent_run_id, attempt, status, operation_gid, extract(epoch FROM submitted_at)::text AS sa,
        result_url, extract(epoch FROM url_expires_at)::text AS ue, file_size, object_count
        """

    init(row: PostgresRow) throws {
        id = try row["id"].decode(Int64.self)
        shopID = try row["shop_id"].decode(Int64.self)
        kind = try row["kind"].decode(String.self)
        resource = try row["resource"].decode(String.self)
        queryName = try row["query_name"].decode(String.self)
        queryHash = try row["query_hash"].decode(String.self)
        if let field = row["window_field"].string {
            window = QueryWindow(field: field, start: Timestamp.fromEpoch(row["ws"].string), end: Timestamp.fromEpoch(row["we"].string))
        }
        parentRunID = row["parent_run_id"].int64
        attempt = row["attempt"].int ?? 1
        let text = try row["status"].decode(String.self)
        guard let status = RunStatus(rawValue: text) else {
            throw ShopError(.ledgerInconsistent, "sync run \(id) has an unknown status '\(text)'")
        }
        self.status = status
        operationGID = row["operation_gid"].string
        submittedAt = Timestamp.fromEpoch(row["sa"].string)
        resultURL = row["result_url"].string
        urlExpiresAt = Timestamp.fromEpoch(row["ue"].string)
        fileSize = row["file_size"].int64
        objectCount = row["object_count"].int64
    }

    var label: String {
        var text = "\(resource)"
        if let window {
            let s = window.start.map { Timestamp.text($0).prefix(10) } ?? "…"
            let e = window.end.map { Timestamp.text($0).prefix(16) } ?? "…"
            text += " \(s)→\(e)"
        }
        if attempt > 1 { text += " #\(attempt)" }
        return text
    }
}

extension RunRecord {
    /// A new window run that stands in for this one (a retry, a half of a split window, a fresh attempt).
    func successor(window: QueryWindow?, parentRunID: Int64?, attempt: Int) -> RunLedger.NewRun {
        RunLedger.NewRun(
            shopID: shopID, kind: kind, resource: resource, queryName: queryName, queryHash: queryHash, windowField: window?.field,
            windowStart: window?.start.map(Timestamp.text), windowEnd: window?.end.map(Timestamp.text), parentRunID: parentRunID,
            attempt: attempt)
    }
}
