import Foundation
import Importer
import Postgres
import ServiceDesk

/// A shop as `GET /v1/shops` shows it: its last successful import and how fresh the mirror is.
public struct ShopSummary: Sendable, Encodable, Equatable {
    public var name: String
    public var storeDomain: String
    public var enabled: Bool
    public var customersAs: String
    /// The last successful import of any kind (ISO 8601 UTC), nil when none finished.
    public var lastImportAt: String?
    public var lastImportKind: String?
    /// Seconds since `lastImportAt`.
    public var lastImportAgeSeconds: Int64?
    /// `fresh` (an import finished within the server's `--stale-after`), `stale`, or `never`.
    public var freshness: String
    /// The last successful import per kind (`full`, `delta`, `reconcile`, `load`, ...).
    public var imports: [KindImport]

    public struct KindImport: Sendable, Encodable, Equatable {
        public var kind: String
        public var lastSuccessAt: String
        public var ageSeconds: Int64
    }
}

/// The server's own read-only queries (shops, metrics); lookups are `ServiceDeskQueries`.
struct ServerQueries {
    let connection: PostgresConnection

    /// A finished top-level import: a run that is not a window of another (`parent_run_id` NULL) and
    /// whose data is committed (`RunStatus.done`).
    static let finished = "parent_run_id IS NULL AND status IN (\(RunStatus.sqlList(RunStatus.done)))"
    static let finishedAt = "coalesce(loaded_at, completed_at, updated_at)"

    func shops(staleAfter: Int) throws -> [ShopSummary] {
        let rows = try connection.query(
            """
            SELECT s.name, s.store_domain, s.enabled, s.customers_as, r.kind,
                   to_char(r.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS at,
                   floor(extract(epoch FROM now() - r.at))::bigint AS age
            FROM shops s
            LEFT JOIN LATERAL (
                SELECT kind, max(\(Self.finishedAt)) AS at FROM sync_runs
                WHERE shop_id = s.id AND \(Self.finished) GROUP BY kind
            ) r ON true
            ORDER BY s.name, r.at DESC NULLS LAST, r.kind
            """, name: "list shops with imports")
        var out: [ShopSummary] = []
        for row in rows {
            let name = row["name"].string ?? ""
            if out.last?.name != name {
                out.append(
                    ShopSummary(
                        name: name, storeDomain: row["store_domain"].string ?? "", enabled: row["enabled"].bool ?? false,
                        customersAs: row["customers_as"].string ?? "contact", lastImportAt: nil, lastImportKind: nil,
                        lastImportAgeSeconds: nil, freshness: "never", imports: []))
            }
            guard let kind = row["kind"].string, let at = row["at"].string, let age = row["age"].int64 else { continue }
            out[out.count - 1].imports.append(.init(kind: kind, lastSuccessAt: at, ageSeconds: age))
            if out[out.count - 1].lastImportAt == nil {
                out[out.count - 1].lastImportAt = at
                out[out.count - 1].lastImportKind = kind
                out[out.count - 1].lastImportAgeSeconds = age
                out[out.count - 1].freshness = age <= Int64(staleAfter) ? "fresh" : "stale"
            }
        }
        return out
    }

    /// One sample of a database-derived metric.
    struct Sample {
        var name: String
        var labels: [(String, String)]
        var value: Double
    }

    /// The mirror's tables: every table with `shop_id` and `deleted_at` columns (customers, orders,
    /// order lines, and whatever later migrations add in the same shape).
    func mirrorTables() throws -> [String] {
        try connection.query(
            """
            SELECT c.table_name FROM information_schema.columns c
            JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
            WHERE c.table_schema = current_schema() AND c.column_name IN ('shop_id', 'deleted_at')
            GROUP BY c.table_name HAVING count(*) = 2 ORDER BY c.table_name
            """, name: "mirror tables"
        ).compactMap { $0["table_name"].string }
    }

    /// Per shop: rows per mirror table (not deleted), the last successful import per kind and its
    /// age, runs by status, rows and bytes loaded, errors by code.
    func metricSamples() throws -> [Sample] {
        var samples: [Sample] = []
        let shops = try connection.query("SELECT id, name FROM shops ORDER BY name", name: "metric shops").map {
            (id: $0["id"].int64 ?? 0, name: $0["name"].string ?? "")
        }
        let names = Dictionary(uniqueKeysWithValues: shops.map { ($0.id, $0.name) })
        for table in try mirrorTables() {
            // Table names come from the catalogue; quoted all the same.
            let quoted = "\"" + table.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            var seen = Set<Int64>()
            for row in try connection.query(
                "SELECT shop_id, count(*) AS n FROM \(quoted) WHERE deleted_at IS NULL GROUP BY shop_id", name: "metric rows")
            {
                guard let id = row["shop_id"].int64, let shop = names[id] else { continue }
                seen.insert(id)
                samples.append(
                    Sample(name: "shopbulk_table_rows", labels: [("shop", shop), ("table", table)], value: Double(row["n"].int64 ?? 0)))
            }
            for (id, shop) in shops.map({ ($0.id, $0.name) }) where !seen.contains(id) {
                samples.append(Sample(name: "shopbulk_table_rows", labels: [("shop", shop), ("table", table)], value: 0))
            }
        }
        for row in try connection.query(
            """
            SELECT shop_id, kind, extract(epoch FROM max(\(Self.finishedAt)))::float8 AS at,
                   extract(epoch FROM now() - max(\(Self.finishedAt)))::float8 AS age
            FROM sync_runs WHERE \(Self.finished) GROUP BY shop_id, kind
            """, name: "metric last imports")
        {
            guard let id = row["shop_id"].int64, let shop = names[id], let kind = row["kind"].string else { continue }
            let labels = [("shop", shop), ("kind", kind)]
            samples.append(
                Sample(name: "shopbulk_last_import_timestamp_seconds", labels: labels, value: Double(row["at"].string ?? "") ?? 0))
            samples.append(Sample(name: "shopbulk_last_import_age_seconds", labels: labels, value: Double(row["age"].string ?? "") ?? 0))
        }
        for row in try connection.query(
            "SELECT shop_id, status, count(*) AS n FROM sync_runs GROUP BY shop_id, status", name: "metric runs by status")
        {
            guard let id = row["shop_id"].int64, let shop = names[id], let status = row["status"].string else { continue }
            samples.append(Sample(name: "shopbulk_runs", labels: [("shop", shop), ("status", status)], value: Double(row["n"].int64 ?? 0)))
        }
        for row in try connection.query(
            "SELECT shop_id, sum(rows_loaded)::bigint AS rows, sum(bytes_downloaded)::bigint AS bytes FROM sync_runs GROUP BY shop_id",
            name: "metric rows and bytes")
        {
            guard let id = row["shop_id"].int64, let shop = names[id] else { continue }
            samples.append(Sample(name: "shopbulk_rows_loaded", labels: [("shop", shop)], value: Double(row["rows"].int64 ?? 0)))
            samples.append(Sample(name: "shopbulk_bytes_downloaded", labels: [("shop", shop)], value: Double(row["bytes"].int64 ?? 0)))
        }
        for row in try connection.query(
            "SELECT shop_id, error_code, count(*) AS n FROM sync_runs WHERE error_code IS NOT NULL GROUP BY shop_id, error_code",
            name: "metric errors")
        {
            guard let id = row["shop_id"].int64, let shop = names[id], let code = row["error_code"].string else { continue }
            samples.append(
                Sample(name: "shopbulk_run_errors", labels: [("shop", shop), ("code", code)], value: Double(row["n"].int64 ?? 0)))
        }
        return samples
    }
}
