import Foundation
import Postgres

/// How a service desk names one order: by its name (`#1001`, or `1001`), its numeric id, or its GID.
public enum OrderReference: Sendable, Equatable {
    case name(String)
    case id(Int64)
    /// Digits only: an order name without its `#` or an id, whichever exists (the name first).
    case nameOrID(String, Int64)

    /// Parses `#1001`, `1001`, `5012345678901` or `gid://shopify/Order/5012345678901`; nil when it is
    /// none of these.
    public init?(_ text: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.hasPrefix("gid://shopify/Order/") {
            guard let id = Int64(t.dropFirst("gid://shopify/Order/".count)), id > 0 else { return nil }
            self = .id(id)
        } else if t.hasPrefix("#") {
            guard t.count > 1, t.count <= 64, !t.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7f...0x9f).contains($0.value) })
            else {
                return nil
            }
            self = .name(t)
        } else if !t.isEmpty, t.allSatisfy({ $0.isASCII && $0.isNumber }), let id = Int64(t) {
            self = .nameOrID("#" + t, id)
        } else {
            return nil
        }
    }
}

extension ServiceDeskQueries {
    /// One order of `shop` with its line items, shipments and refunds (as `lookup` shows each), by name or id; nil when there is none (deleted
    /// orders are left out). Index-backed: the primary key, or `orders_name_idx`.
    public func order(shop: Shop, reference: OrderReference) throws -> LookupOrder? {
        let condition: String
        var preferName = "(o.name = $2) DESC, "
        let parameters: [any PostgresBindable]
        switch reference {
        case .name(let name):
            condition = "o.name = $2"
            parameters = [shop.id, name]
        case .id(let id):
            condition = "o.id = $2"
            preferName = ""
            parameters = [shop.id, id]
        case .nameOrID(let name, let id):
            condition = "(o.name = $2 OR o.id = $3)"
            parameters = [shop.id, name, id]
        }
        let rows = try connection.query(
            """
            SELECT o.id, o.gid, o.name, o.email, o.customer_id,
                   CASE WHEN o.customer_id IS NULL THEN 'guest'
                        WHEN EXISTS (SELECT 1 FROM customers c WHERE c.shop_id = o.shop_id AND c.id = o.customer_id AND c.deleted_at IS NULL)
                        THEN 'customer' ELSE 'email' END AS matched_by,
                   \(Self.iso("o.created_at")) AS created_at, \(Self.iso("o.processed_at")) AS processed_at,
                   \(Self.iso("o.cancelled_at")) AS cancelled_at,
                   o.financial_status, o.fulfillment_status, o.currency_code,
                   o.total_price::text AS total_price, o.subtotal_price::text AS subtotal_price, o.total_tax::text AS total_tax,
                   o.total_discounts::text AS total_discounts, o.total_shipping::text AS total_shipping,
                   o.total_refunded::text AS total_refunded, o.current_total_price::text AS current_total_price,
                   coalesce(to_json(o.tags), '[]')::text AS tags,
                   o.fulfillments::text AS fulfillments, o.refunds::text AS refunds
            FROM orders o
            WHERE o.shop_id = $1 AND o.deleted_at IS NULL AND \(condition)
            ORDER BY \(preferName)o.created_at DESC NULLS LAST, o.id DESC
            LIMIT 1
            """, parameters, name: "lookup one order")
        guard let row = rows.first else { return nil }
        var order = LookupOrder(
            id: try row["id"].decode(Int64.self), gid: row["gid"].string ?? "", name: row["name"].string,
            email: row["email"].string,
            customerId: row["customer_id"].int64, matchedBy: row["matched_by"].string ?? "customer",
            createdAt: row["created_at"].string, processedAt: row["processed_at"].string, cancelledAt: row["cancelled_at"].string,
            financialStatus: row["financial_status"].string, fulfillmentStatus: row["fulfillment_status"].string,
            currency: row["currency_code"].string, totalPrice: row["total_price"].string,
            subtotalPrice: row["subtotal_price"].string,
            totalTax: row["total_tax"].string, totalDiscounts: row["total_discounts"].string,
            totalShipping: row["total_shipping"].string, totalRefunded: row["total_refunded"].string,
            currentTotalPrice: row["current_total_price"].string, tags: Self.decodeTags(row["tags"].string), lineItems: [],
            fulfillments: try Self.decodeFulfillments(row["fulfillments"].string), refunds: try Self.decodeRefunds(row["refunds"].string))
        order.lineItems = try connection.query(
            """
            SELECT id, title, variant_title, sku, quantity,
                   original_unit_price::text AS unit_price, discounted_unit_price::text AS discounted_unit_price,
                   discounted_total::text AS total, currency_code
            FROM order_lines
            WHERE shop_id = $1 AND order_id = $2 AND deleted_at IS NULL
            ORDER BY id
            """, [shop.id, order.id], name: "lookup one order's lines"
        ).map { row in
            LookupLineItem(
                id: try row["id"].decode(Int64.self), title: row["title"].string, variantTitle: row["variant_title"].string,
                sku: row["sku"].string, quantity: row["quantity"].int, unitPrice: row["unit_price"].string,
                discountedUnitPrice: row["discounted_unit_price"].string, total: row["total"].string,
                currency: row["currency_code"].string ?? order.currency)
        }
        return order
    }
}
