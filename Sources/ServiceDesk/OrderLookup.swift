import Foundation
import Importer
import Loader
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
            Self.withLineItems(
                """
                SELECT o.id, o.gid, o.name, o.email, o.customer_id,
                       CASE WHEN o.customer_id IS NULL THEN 'guest'
                            WHEN EXISTS (SELECT 1 FROM customers c WHERE c.shop_id = o.shop_id AND c.id = o.customer_id AND c.deleted_at IS NULL)
                            THEN 'customer' ELSE 'email' END AS matched_by,
                       \(Self.orderColumns)
                FROM orders o
                WHERE o.shop_id = $1 AND o.deleted_at IS NULL AND \(condition)
                ORDER BY \(preferName)o.created_at DESC NULLS LAST, o.id DESC
                LIMIT 1
                """), parameters, name: "lookup one order")
        return try rows.first.map(Self.decodeOrder)
    }
}
