import Foundation
import Importer
import JSONL
import Loader
import Postgres

/// The service-desk context for one e-mail address: who the person is (as a contact or as a
/// customer account, per the shop's `customers_as`) and their latest orders with line items.
public struct ServiceDeskLookup: Sendable, Encodable, Equatable {
    public var shop: String
    /// The address looked up, as given (trimmed).
    public var email: String
    /// `contact` or `customer`: how the shop presents its Shopify customers.
    public var presentedAs: String
    /// Matching customers (normally one; Shopify keeps customer e-mails unique per shop).
    public var people: [LookupPerson]
    /// All matching orders, of which `orders` holds the latest.
    public var orderCount: Int
    /// The latest orders, newest first.
    public var orders: [LookupOrder]

    /// Nothing matched.
    public var isEmpty: Bool { people.isEmpty && orderCount == 0 }
}

/// A customer as a service desk sees it.
public struct LookupPerson: Sendable, Encodable, Equatable {
    public var id: Int64
    public var gid: String
    /// The contact's full name, or the account's name (company first).
    public var name: String?
    public var email: String?
    public var phone: String?
    /// Shopify's customer state (`ENABLED`, `DISABLED`, `INVITED`, `DECLINED`); contacts only.
    public var state: String?
    public var tags: [String]
    public var note: String?
    public var numberOfOrders: Int64?
    public var amountSpent: String?
    public var amountSpentCurrency: String?
    /// The default address on one line.
    public var address: String?
    public var createdAt: String?
    public var updatedAt: String?
    /// The company (by the shop's contact field map; the default address's company otherwise).
    public var company: String? = nil
    /// The shop's custom contact fields (`custom.NAME` in its contact field map), by name.
    public var customFields: [String: String?] = [:]
}

/// An order with its line items.
public struct LookupOrder: Sendable, Encodable, Equatable {
    public var id: Int64
    public var gid: String
    /// `#1001`
    public var name: String?
    public var email: String?
    public var customerId: Int64?
    /// `customer` (the person's order), `guest` (a guest checkout with this e-mail), or `email` (the
    /// order's customer is not in the mirror, but its e-mail matches).
    public var matchedBy: String
    public var createdAt: String?
    public var processedAt: String?
    public var cancelledAt: String?
    public var financialStatus: String?
    public var fulfillmentStatus: String?
    public var currency: String?
    public var totalPrice: String?
    public var subtotalPrice: String?
    public var totalTax: String?
    public var totalDiscounts: String?
    public var totalShipping: String?
    public var totalRefunded: String?
    public var currentTotalPrice: String?
    public var tags: [String]
    public var lineItems: [LookupLineItem]
    /// Shipments, oldest first: empty when nothing shipped yet (or the order was imported before
    /// shipping was mirrored).
    public var fulfillments: [LookupFulfillment] = []
    /// Refunds, oldest first.
    public var refunds: [LookupRefund] = []
}

/// One shipment of an order. Times are ISO 8601 UTC text, as Shopify gives them.
public struct LookupFulfillment: Sendable, Encodable, Equatable {
    public var id: Int64?
    /// Shopify's `FulfillmentStatus`: `SUCCESS`, `CANCELLED`, `ERROR`, `FAILURE`.
    public var status: String?
    /// Shopify's `FulfillmentDisplayStatus`, what to show: `DELIVERED`, `IN_TRANSIT`, `OUT_FOR_DELIVERY` …
    public var displayStatus: String?
    public var createdAt: String?
    public var inTransitAt: String?
    public var deliveredAt: String?
    public var estimatedDeliveryAt: String?
    /// The first parcel's carrier, tracking number and tracking page (`tracking` lists them all).
    public var trackingCompany: String?
    public var trackingNumber: String?
    /// As the shop stored it: not necessarily a web address (render only http(s) links).
    public var trackingUrl: String?
    public var tracking: [LookupTracking] = []
}

/// A parcel of a shipment.
public struct LookupTracking: Sendable, Encodable, Equatable {
    public var company: String?
    public var number: String?
    public var url: String?
}

/// One refund of an order: the amount is exact decimal text in `currency`.
public struct LookupRefund: Sendable, Encodable, Equatable {
    public var id: Int64?
    public var createdAt: String?
    public var note: String?
    public var amount: String?
    public var currency: String?
}

/// One line of an order. Money is exact decimal text (`"8.97"`).
public struct LookupLineItem: Sendable, Encodable, Equatable {
    public var id: Int64
    public var title: String?
    public var variantTitle: String?
    public var sku: String?
    public var quantity: Int?
    public var unitPrice: String?
    public var discountedUnitPrice: String?
    public var total: String?
    public var currency: String?
}

/// Read-only queries for service desks, straight from the mirror tables and views.
public struct ServiceDeskQueries {
    let connection: PostgresConnection
    public init(connection: PostgresConnection) { self.connection = connection }

    /// Looks up `email` (case-insensitively) in `shop`: the customers with that address, through the
    /// `contacts` or `customer_accounts` view, and the latest `orderLimit` orders that are theirs or
    /// that carry the address themselves (guest checkouts, and orders whose customer is not imported),
    /// newest first, each with its line items. Deleted rows are left out. Two statements: the people,
    /// then their orders with the orders' lines.
    public func lookup(shop: Shop, email rawEmail: String, orderLimit: Int = 10) throws -> ServiceDeskLookup {
        let email = rawEmail.trimmingCharacters(in: .whitespacesAndNewlines)
        let people = try findPeople(shop: shop, email: email)
        let ids = people.map { String($0.id) }
        var count = 0
        var orders: [LookupOrder] = []
        if orderLimit > 0 {
            let rows = try connection.query(Self.ordersStatement, [shop.id, email, ids, orderLimit], name: "lookup orders")
            count = try rows.first?["matched_count"].decode(Int.self) ?? 0
            orders = try rows.map(Self.decodeOrder)
        } else {
            count =
                try connection.query(Self.orderCountStatement, [shop.id, email, ids], name: "count lookup orders").first?["n"].int
                ?? 0
        }
        return ServiceDeskLookup(
            shop: shop.name, email: email, presentedAs: shop.customersAs.rawValue, people: people, orderCount: count, orders: orders)
    }

    /// A person's or an address's orders: `$1` the shop's id, `$2` the address, `$3` the people's ids.
    static let matchedOrders = """
        FROM orders o
        WHERE o.shop_id = $1 AND o.deleted_at IS NULL
          AND (o.customer_id = ANY($3::bigint[])
               OR (lower(o.email) = lower($2)
                   AND NOT EXISTS (SELECT 1 FROM customers c
                                   WHERE c.shop_id = o.shop_id AND c.id = o.customer_id AND c.deleted_at IS NULL)))
        """

    /// The lookup's orders (`$4` of them at most), how many match, and each order's line items in one
    /// statement: the window count is taken over every matched row before the LIMIT (no row means none
    /// matched), and the lines are read for the kept orders only, outside the LIMIT.
    public static let ordersStatement = withLineItems(
        """
        SELECT o.id, o.gid, o.name, o.email, o.customer_id,
               CASE WHEN o.customer_id = ANY($3::bigint[]) THEN 'customer'
                    WHEN o.customer_id IS NULL THEN 'guest' ELSE 'email' END AS matched_by,
               \(orderColumns), count(*) OVER () AS matched_count
        \(matchedOrders)
        ORDER BY o.created_at DESC NULLS LAST, o.id DESC
        LIMIT $4
        """)

    /// How many orders a lookup matches, for a lookup of no orders.
    static let orderCountStatement = "SELECT count(*) AS n \(matchedOrders)"

    /// The columns of an order after `matched_by`, as `decodeOrder` reads them (`o` is `orders`;
    /// `sort_at` is for `withLineItems`' order).
    static let orderColumns = """
        o.created_at AS sort_at, \(iso("o.created_at")) AS created_at, \(iso("o.processed_at")) AS processed_at,
               \(iso("o.cancelled_at")) AS cancelled_at,
               o.financial_status, o.fulfillment_status, o.currency_code,
               o.total_price::text AS total_price, o.subtotal_price::text AS subtotal_price, o.total_tax::text AS total_tax,
               o.total_discounts::text AS total_discounts, o.total_shipping::text AS total_shipping,
               o.total_refunded::text AS total_refunded, o.current_total_price::text AS current_total_price,
               coalesce(to_json(o.tags), '[]')::text AS tags,
               o.fulfillments::text AS fulfillments, o.refunds::text AS refunds
        """

    /// An order row of `id, gid, name, email, customer_id, matched_by`, `orderColumns` and
    /// `withLineItems`' `line_items`.
    static func decodeOrder(_ row: PostgresRow) throws -> LookupOrder {
        LookupOrder(
            id: try row["id"].decode(Int64.self), gid: row["gid"].string ?? "", name: row["name"].string,
            email: row["email"].string,
            customerId: row["customer_id"].int64, matchedBy: row["matched_by"].string ?? "customer",
            createdAt: row["created_at"].string, processedAt: row["processed_at"].string, cancelledAt: row["cancelled_at"].string,
            financialStatus: row["financial_status"].string, fulfillmentStatus: row["fulfillment_status"].string,
            currency: row["currency_code"].string, totalPrice: row["total_price"].string,
            subtotalPrice: row["subtotal_price"].string,
            totalTax: row["total_tax"].string, totalDiscounts: row["total_discounts"].string,
            totalShipping: row["total_shipping"].string, totalRefunded: row["total_refunded"].string,
            currentTotalPrice: row["current_total_price"].string, tags: decodeTags(row["tags"].string),
            lineItems: try decodeLineItems(row["line_items"].string, orderCurrency: row["currency_code"].string),
            fulfillments: try decodeFulfillments(row["fulfillments"].string), refunds: try decodeRefunds(row["refunds"].string))
    }

    /// `orders`, a statement of `$1` (the shop's id) that selects `id` and `sort_at` among the order
    /// columns and ends in ORDER BY … LIMIT, with a `line_items` column added after its LIMIT: each
    /// kept order's lines (not deleted) in id order, as a JSON array of `[id, title, variant_title,
    /// sku, quantity, unit price, discounted unit price, total, currency]` with money as exact text.
    /// Newest first, like the statement.
    static func withLineItems(_ orders: String) -> String {
        """
        SELECT m.*,
               (SELECT coalesce(json_agg(json_build_array(l.id, l.title, l.variant_title, l.sku, l.quantity,
                                         l.original_unit_price::text, l.discounted_unit_price::text,
                                         l.discounted_total::text, l.currency_code) ORDER BY l.id), '[]')::text
                FROM order_lines l
                WHERE l.shop_id = $1 AND l.order_id = m.id AND l.deleted_at IS NULL) AS line_items
        FROM (
        \(orders)
        ) m
        ORDER BY m.sort_at DESC NULLS LAST, m.id DESC
        """
    }

    /// `withLineItems`' `line_items`: a line without a currency of its own is in the order's.
    static func decodeLineItems(_ json: String?, orderCurrency: String?) throws -> [LookupLineItem] {
        let column = "order_lines"
        guard let json else { return [] }
        let value: JSONValue
        do {
            value = try JSONValue(parsing: json)
        } catch {
            throw LookupError(message: "\(column): the lines' JSON does not parse: \(error)")
        }
        guard case .array(let lines) = value else { throw shapeError(column, nil, "not a list") }
        return try lines.map { line in
            guard case .array(let f) = line, f.count == 9 else { throw shapeError(column, nil, "a line is not 9 values") }
            func string(_ i: Int) -> String? {
                switch f[i] {
                case .string(let s), .number(let s): s
                default: nil
                }
            }
            guard let id = string(0).flatMap({ Int64($0) }) else { throw shapeError(column, "id", "not a number") }
            return LookupLineItem(
                id: id, title: string(1), variantTitle: string(2), sku: string(3), quantity: string(4).flatMap { Int($0) },
                unitPrice: string(5), discountedUnitPrice: string(6), total: string(7), currency: string(8) ?? orderCurrency)
        }
    }

    /// The people with an address (`$1` the shop's id, `$2` the address) as `customersAs` presents
    /// them.
    public static func peopleStatement(_ customersAs: Shop.CustomersAs) -> String {
        let address = """
            nullif(concat_ws(', ', nullif(address->>'company', ''), nullif(address->>'address1', ''), nullif(address->>'address2', ''),
                   nullif(trim(concat_ws(' ', address->>'zip', address->>'city')), ''), nullif(address->>'province', ''),
                   nullif(coalesce(address->>'country', address->>'countryCodeV2'), '')), '')
            """
        // The indexed customers.email unless the shop maps the e-mail to another source: both branches
        // in one statement, each behind a one-time filter on the mapping, so only one of them runs. The
        // order is by the output columns (updated_at as UTC text to the second, then the id).
        let mapped = "EXISTS (SELECT 1 FROM contact_field_map WHERE shop_id = $1 AND field = 'email')"
        // The view's own names for what differs between a contact and a customer account.
        let (view, id, name, mappedEmail, phone, state) =
            switch customersAs {
            case .contact: ("contacts", "contact_id", "full_name", "email", "phone", "state")
            case .customer: ("customer_accounts", "account_id", "account_name", "main_email", "main_phone", "NULL::text")
            }
        let columns = """
            SELECT \(id) AS id, gid, \(name) AS name, \(mappedEmail) AS email, \(phone) AS phone, \(state) AS state, note,
                   number_of_orders, amount_spent::text AS amount_spent, amount_spent_currency, \(address) AS address,
                   coalesce(to_json(tags), '[]')::text AS tags,
                   \(iso("created_at")) AS created_at, \(iso("updated_at")) AS updated_at,
                   company, custom_fields::text AS custom_fields
            FROM \(view)
            """
        return """
            \(columns) WHERE shop_id = $1 AND lower(customer_email) = lower($2) AND NOT \(mapped)
            UNION ALL
            \(columns) WHERE shop_id = $1 AND lower(\(mappedEmail)) = lower($2) AND \(mapped)
            ORDER BY updated_at DESC NULLS LAST, id
            """
    }

    func findPeople(shop: Shop, email: String) throws -> [LookupPerson] {
        return try connection.query(Self.peopleStatement(shop.customersAs), [shop.id, email], name: "lookup customers").map { row in
            LookupPerson(
                id: try row["id"].decode(Int64.self), gid: row["gid"].string ?? "", name: row["name"].string, email: row["email"].string,
                phone: row["phone"].string, state: row["state"].string, tags: Self.decodeTags(row["tags"].string), note: row["note"].string,
                numberOfOrders: row["number_of_orders"].int64, amountSpent: row["amount_spent"].string,
                amountSpentCurrency: row["amount_spent_currency"].string, address: row["address"].string,
                createdAt: row["created_at"].string, updatedAt: row["updated_at"].string, company: row["company"].string,
                customFields: Self.decodeFields(row["custom_fields"].string))
        }
    }

    /// `Order.fulfillments` as the bulk result carried it (`[{id, status, displayStatus, …, trackingInfo: [{company, number, url}]}]`);
    /// fields a shop's query did not select are nil.
    static func decodeFulfillments(_ json: String?) throws -> [LookupFulfillment] {
        let column = "orders.fulfillments"
        return try decodeList(json, column: column).map { f in
            let tracking = try list(f["trackingInfo"], column: column, field: "trackingInfo").map { t in
                LookupTracking(
                    company: try text(t, "company", column), number: try text(t, "number", column), url: try text(t, "url", column))
            }
            return LookupFulfillment(
                id: try text(f, "id", column).flatMap(numericID), status: try text(f, "status", column),
                displayStatus: try text(f, "displayStatus", column), createdAt: try text(f, "createdAt", column),
                inTransitAt: try text(f, "inTransitAt", column), deliveredAt: try text(f, "deliveredAt", column),
                estimatedDeliveryAt: try text(f, "estimatedDeliveryAt", column),
                trackingCompany: tracking.first?.company, trackingNumber: tracking.first?.number, trackingUrl: tracking.first?.url,
                tracking: tracking)
        }
    }

    /// `Order.refunds` as the bulk result carried it (`[{id, createdAt, note, totalRefundedSet: {shopMoney: {amount, currencyCode}}}]`).
    static func decodeRefunds(_ json: String?) throws -> [LookupRefund] {
        let column = "orders.refunds"
        return try decodeList(json, column: column).map { r in
            let money = try object(
                object(r["totalRefundedSet"], column: column, field: "totalRefundedSet")?["shopMoney"], column: column, field: "shopMoney")
            return LookupRefund(
                id: try text(r, "id", column).flatMap(numericID), createdAt: try text(r, "createdAt", column),
                note: try text(r, "note", column), amount: try money.flatMap { try text($0, "amount", column) },
                currency: try money.flatMap { try text($0, "currencyCode", column) })
        }
    }

    /// A jsonb array column of objects (NULL: an empty list), read with the project's own JSON parser
    /// (Foundation's `JSONDecoder` cost more than the rest of a lookup's decoding). A value of another
    /// shape is a clear error naming the column.
    static func decodeList(_ json: String?, column: String) throws -> [JSONValue] {
        guard let json, json != "null" else { return [] }
        let value: JSONValue
        do {
            value = try JSONValue(parsing: json)
        } catch {
            throw LookupError(message: "\(column) does not hold the list Shopify returns: \(error)")
        }
        return try list(value, column: column, field: nil)
    }

    /// An array of objects, or nil/null as an empty one.
    static func list(_ value: JSONValue?, column: String, field: String?) throws -> [JSONValue] {
        switch value {
        case nil, .null?: return []
        case .array(let items)?:
            for item in items {
                guard case .object = item else { throw shapeError(column, field, "a list element is not an object") }
            }
            return items
        default: throw shapeError(column, field, "not a list")
        }
    }

    /// An object, or nil for nil/null.
    static func object(_ value: JSONValue?, column: String, field: String) throws -> JSONValue? {
        switch value {
        case nil, .null?: return nil
        case .object?: return value
        default: throw shapeError(column, field, "not an object")
        }
    }

    /// The string member `key` of an object; nil when missing or null.
    static func text(_ object: JSONValue, _ key: String, _ column: String) throws -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let s)?: return s
        default: throw shapeError(column, key, "not a string")
        }
    }

    static func shapeError(_ column: String, _ field: String?, _ problem: String) -> LookupError {
        LookupError(message: "\(column) does not hold the list Shopify returns: \(field.map { "\($0): " } ?? "")\(problem)")
    }

    /// The number at the end of a GID (`gid://shopify/Fulfillment/123` → 123).
    static func numericID(_ gid: String) -> Int64? {
        gid.split(separator: "/").last.flatMap { Int64($0.prefix { $0.isNumber }) }
    }

    static func decodeFields(_ json: String?) -> [String: String?] {
        guard let json, case .object(let members)? = try? JSONValue(parsing: json) else { return [:] }
        var out: [String: String?] = [:]
        for member in members {
            if case .string(let s) = member.value { out[member.key] = .some(s) } else { out[member.key] = .some(nil) }
        }
        return out
    }

    /// A `timestamptz` as ISO 8601 UTC text (`2025-06-03T10:15:00Z`).
    static func iso(_ column: String) -> String { Timestamp.sql(column) }

    static func decodeTags(_ json: String?) -> [String] {
        guard let json, case .array(let items)? = try? JSONValue(parsing: json) else { return [] }
        return items.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
    }
}

/// A mirror row that a lookup cannot read (a value of the wrong shape in a column).
public struct LookupError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
