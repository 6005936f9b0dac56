import Postgres

/// How much imported data a shop has: what `shopbulk shop remove` deletes with it.
public struct ShopDataCounts: Sendable, Equatable {
    public var customers: Int
    public var orders: Int
    public var orderLines: Int
    public var otherRecords: Int
    public var runs: Int

    public var isEmpty: Bool { customers == 0 && orders == 0 && orderLines == 0 && otherRecords == 0 && runs == 0 }
}

extension ShopStore {
    /// Counts the rows that belong to `shop` (deleted with it through `ON DELETE CASCADE`).
    public func dataCounts(_ shop: Shop) throws -> ShopDataCounts {
        let row = try connection.query(
            """
            SELECT (SELECT count(*) FROM customers WHERE shop_id = $1) AS customers,
                   (SELECT count(*) FROM orders WHERE shop_id = $1) AS orders,
                   (SELECT count(*) FROM order_lines WHERE shop_id = $1) AS order_lines,
                   (SELECT count(*) FROM bulk_records WHERE shop_id = $1) AS other,
                   (SELECT count(*) FROM sync_runs WHERE shop_id = $1) AS runs
            """, [shop.id], name: "count shop data")
        guard let r = row.first else { return ShopDataCounts(customers: 0, orders: 0, orderLines: 0, otherRecords: 0, runs: 0) }
        return ShopDataCounts(
            customers: r["customers"].int ?? 0, orders: r["orders"].int ?? 0, orderLines: r["order_lines"].int ?? 0,
            otherRecords: r["other"].int ?? 0, runs: r["runs"].int ?? 0)
    }

    /// Turns a shop's imports on or off; false when the shop already was so.
    @discardableResult
    public func setEnabled(_ shop: Shop, _ enabled: Bool) throws -> Bool {
        let result = try connection.query(
            "UPDATE shops SET enabled = $2, updated_at = now() WHERE id = $1 AND enabled <> $2", [shop.id, enabled], name: "enable shop")
        return result.affectedRows > 0
    }
}
