import Importer
import Loader
import Postgres

/// Where a shop's imports stand: its settings, recent runs, operations in flight, committed
/// high-water marks and the latest errors. Secrets never appear (references are not included either).
public struct ShopStatus: Sendable, Encodable, Equatable {
    public var shop: String
    public var storeDomain: String
    public var enabled: Bool
    public var authMethod: String
    public var importLineItems: Bool
    public var customersAs: String
    public var apiVersion: String
    public var apiBase: String?
    /// The latest runs, newest first.
    public var runs: [RunSummary]
    /// Runs not yet finished: planned, submitted, running, completed (not yet loaded) or downloading.
    public var inFlight: [RunSummary]
    public var highWaterMarks: [HighWaterMark]
    /// The latest runs that recorded an error, newest first.
    public var lastErrors: [RunSummary]
    /// The worker fleet's schedule of the shop (nil: not scheduled).
    public var schedule: ScheduleStatus?
}

/// One `sync_runs` row, as status shows it.
public struct RunSummary: Sendable, Encodable, Equatable {
    public var id: Int64
    /// full | delta | reconcile | saved | load
    public var kind: String
    public var resource: String
    public var queryName: String
    public var windowField: String?
    public var windowStart: String?
    public var windowEnd: String?
    public var attempt: Int
    public var status: String
    public var operationGid: String?
    /// Shopify's status of the bulk operation (`RUNNING`, `COMPLETED` …).
    public var shopifyStatus: String?
    public var objectCount: Int64?
    public var fileSize: Int64?
    public var bytesDownloaded: Int64
    public var rowsLoaded: Int64
    public var rowsRejected: Int64
    public var errorCode: String?
    public var errorMessage: String?
    public var createdAt: String
    public var updatedAt: String
    /// Seconds since the run was created.
    public var ageSeconds: Int64
    /// Seconds since the run last changed.
    public var idleSeconds: Int64

    /// Whether the run is still in flight.
    public var isOpen: Bool { RunStatus(rawValue: status)?.isOpen ?? false }
}

/// The committed high-water mark of one resource.
public struct HighWaterMark: Sendable, Encodable, Equatable {
    public var resource: String
    public var updatedAt: String?
    public var id: Int64?
    public var lastRunId: Int64?
    public var fullImportDoneAt: String?
    /// When the mark last moved.
    public var recordedAt: String
    public var ageSeconds: Int64
}

extension ServiceDeskQueries {
    /// The status of each of `shops`: the latest `runLimit` runs, every run in flight, the high-water
    /// marks and the latest `errorLimit` runs with an error.
    public func status(of shops: [Shop], runLimit: Int = 10, errorLimit: Int = 5) throws -> [ShopStatus] {
        try shops.map { shop in
            let latest = try runs(shopID: shop.id, where: "TRUE", limit: runLimit)
            let open = try runs(
                shopID: shop.id, where: "status IN (\(RunStatus.sqlList(RunStatus.open)))", limit: 1000)
            let errors = try runs(shopID: shop.id, where: "(error_code IS NOT NULL OR error_message IS NOT NULL)", limit: errorLimit)
            let marks = try connection.query(
                """
                SELECT resource, \(Self.iso("high_water_updated_at")) AS hw_at, high_water_id, last_run_id,
                       \(Self.iso("full_import_done_at")) AS full_at, \(Self.iso("updated_at")) AS recorded_at,
                       extract(epoch FROM now() - updated_at)::bigint AS age
                FROM sync_state WHERE shop_id = $1 ORDER BY resource
                """, [shop.id], name: "status high-water marks"
            ).map { row in
                HighWaterMark(
                    resource: row["resource"].string ?? "", updatedAt: row["hw_at"].string, id: row["high_water_id"].int64,
                    lastRunId: row["last_run_id"].int64, fullImportDoneAt: row["full_at"].string,
                    recordedAt: row["recorded_at"].string ?? "",
                    ageSeconds: row["age"].int64 ?? 0)
            }
            return ShopStatus(
                shop: shop.name, storeDomain: shop.storeDomain, enabled: shop.enabled, authMethod: shop.authMethod.rawValue,
                importLineItems: shop.importLineItems, customersAs: shop.customersAs.rawValue, apiVersion: shop.apiVersion,
                apiBase: shop.apiBase, runs: latest, inFlight: open, highWaterMarks: marks, lastErrors: errors,
                schedule: try FleetStore(connection: connection).status(shop: shop))
        }
    }

    func runs(shopID: Int64, where condition: String, limit: Int) throws -> [RunSummary] {
        try connection.query(
            """
            SELECT id, kind, resource, query_name, window_field, \(Self.iso("window_start")) AS window_start,
                   \(Self.iso("window_end")) AS window_end, attempt, status, operation_gid, shopify_status, object_count, file_size,
                   bytes_downloaded, rows_loaded, rows_rejected, error_code, error_message,
                   \(Self.iso("created_at")) AS created_at, \(Self.iso("updated_at")) AS updated_at,
                   extract(epoch FROM now() - created_at)::bigint AS age, extract(epoch FROM now() - updated_at)::bigint AS idle
            FROM sync_runs
            WHERE shop_id = $1 AND \(condition)
            ORDER BY created_at DESC, id DESC
            LIMIT $2
            """, [shopID, limit], name: "status runs"
        ).map { row in
            RunSummary(
                id: try row["id"].decode(Int64.self), kind: row["kind"].string ?? "", resource: row["resource"].string ?? "",
                queryName: row["query_name"].string ?? "", windowField: row["window_field"].string, windowStart: row["window_start"].string,
                windowEnd: row["window_end"].string, attempt: row["attempt"].int ?? 1, status: row["status"].string ?? "",
                operationGid: row["operation_gid"].string, shopifyStatus: row["shopify_status"].string,
                objectCount: row["object_count"].int64,
                fileSize: row["file_size"].int64, bytesDownloaded: row["bytes_downloaded"].int64 ?? 0,
                rowsLoaded: row["rows_loaded"].int64 ?? 0,
                rowsRejected: row["rows_rejected"].int64 ?? 0, errorCode: row["error_code"].string,
                errorMessage: row["error_message"].string,
                createdAt: row["created_at"].string ?? "", updatedAt: row["updated_at"].string ?? "", ageSeconds: row["age"].int64 ?? 0,
                idleSeconds: row["idle"].int64 ?? 0)
        }
    }
}

/// What a shop's mirror holds, in short: `shopbulk demo`'s summary.
public struct MirrorSummary: Sendable, Equatable {
    /// A customer with the most orders.
    public struct TopContact: Sendable, Equatable {
        public var name: String?
        public var email: String?
        public var orders: Int
        /// Exact decimal text, in `currency`.
        public var spent: String?
        public var currency: String?
    }
    public var customers: Int
    public var orders: Int
    public var deletedOrders: Int
    public var orderLines: Int
    public var topContacts: [TopContact]
}

extension ServiceDeskQueries {
    /// The rows of `shop`'s mirror tables and its `limit` contacts with the most orders.
    public func summary(shop: Shop, topContacts limit: Int = 3) throws -> MirrorSummary {
        let counts = try connection.query(
            """
            SELECT (SELECT count(*) FROM customers WHERE shop_id = $1) AS customers,
                   (SELECT count(*) FROM orders WHERE shop_id = $1) AS orders,
                   (SELECT count(*) FROM order_lines WHERE shop_id = $1) AS lines,
                   (SELECT count(*) FROM orders WHERE shop_id = $1 AND deleted_at IS NOT NULL) AS deleted
            """, [shop.id], name: "mirror counts"
        ).first
        let top = try connection.query(
            """
            SELECT c.full_name, c.email, o.currency_code AS currency, count(o.order_id) AS n, sum(o.total_price)::text AS spent
            FROM contacts c JOIN order_history o ON o.shop_id = c.shop_id AND o.customer_id = c.contact_id
            WHERE c.shop_id = $1 AND c.email IS NOT NULL GROUP BY 1, 2, 3 ORDER BY count(o.order_id) DESC, 2 LIMIT $2
            """, [shop.id, limit], name: "top contacts"
        ).map { row in
            MirrorSummary.TopContact(
                name: row["full_name"].string, email: row["email"].string, orders: row["n"].int ?? 0, spent: row["spent"].string,
                currency: row["currency"].string)
        }
        return MirrorSummary(
            customers: counts?["customers"].int ?? 0, orders: counts?["orders"].int ?? 0, deletedOrders: counts?["deleted"].int ?? 0,
            orderLines: counts?["lines"].int ?? 0, topContacts: top)
    }
}
