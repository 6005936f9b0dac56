import BulkQueries
import Foundation
import Importer
import Loader
import Migrations
import Postgres
import TestSupport

/// A migrated test database with one shop, and helpers to load JSONL text through the real loader.
final class LoaderHarness: @unchecked Sendable {
    let db: TestDatabase
    let connection: PostgresConnection
    let shop: Shop
    let orders: QueryFile
    let customers: QueryFile

    init(function: String = #function) throws {
        db = try TestDatabase(function: function)
        connection = try db.connect()
        try Migrator(directory: TestEnvironment.packageRoot + "/migrations").apply(on: connection)
        shop = try ShopStore(connection: connection).add(
            Shop(name: "test", storeDomain: "test.myshopify.com", authMethod: .token, tokenRef: "env:TEST_TOKEN"))
        orders = try QueryFile.load(path: TestEnvironment.packageRoot + "/queries/orders.graphql")
        customers = try QueryFile.load(path: TestEnvironment.packageRoot + "/queries/customers.graphql")
    }

    /// Loads `text` as the result of `query`, fed in chunks of the given sizes (cycled).
    @discardableResult
    func load(_ text: String, query: QueryFile? = nil, chunkSizes: [Int] = [1 << 20], options: LoadOptions = LoadOptions()) throws
        -> LoadSummary
    {
        let q = query ?? orders
        let ledger = RunLedger(connection: try db.connect())
        let runID = try ledger.create(
            .init(shopID: shop.id, kind: "load", resource: "orders", queryName: q.name, queryHash: q.hash, status: .loading))
        let loader = try BulkLoader(
            connection: connection, mapping: q.mapping, queryFile: q.path, shopID: shop.id, runID: runID, source: "test.jsonl",
            options: options)
        try loader.begin()
        let bytes = Array(text.utf8)
        var offset = 0
        var k = 0
        while offset < bytes.count {
            let n = min(chunkSizes[k % chunkSizes.count], bytes.count - offset)
            try bytes[offset..<(offset + n)].withUnsafeBytes { try loader.feed($0) }
            offset += n
            k += 1
        }
        return try loader.finish()
    }

    /// Every row of a table as text, ordered by id, without the load-time columns.
    func dump(_ table: String) throws -> [[String?]] {
        let result = try connection.query(
            "SELECT to_jsonb(t) - 'imported_at' AS row FROM \(table) t ORDER BY shop_id, id")
        return result.rows.map { [$0["row"].string] }
    }

    func count(_ sql: String) throws -> Int { try connection.query(sql).first?[0].int ?? -1 }
}

/// Builds JSONL lines shaped like Shopify's bulk output for the bundled orders query.
enum Lines {
    static func json(_ object: [String: Any?]) -> String {
        let cleaned = object.mapValues { $0 ?? NSNull() }
        let data = try! JSONSerialization.data(withJSONObject: cleaned, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    static func money(_ amount: String?) -> Any? { amount.map { ["shopMoney": ["amount": $0]] } }

    static func order(
        _ id: Int, updatedAt: String = "2025-06-04T08:00:00Z", name: String? = nil, total: String? = "10.00", customer: Int? = 7001,
        tags: [String] = ["vip"], note: String? = nil, email: String? = "ann@example.com"
    ) -> String {
        json([
            "__typename": "Order", "id": "gid://shopify/Order/\(id)", "name": name ?? "#\(id)", "email": email, "phone": nil,
            "customer": customer.map { ["id": "gid://shopify/Customer/\($0)"] }, "createdAt": "2025-06-03T10:15:00Z",
            "updatedAt": updatedAt, "processedAt": "2025-06-03T10:15:00Z", "cancelledAt": nil, "cancelReason": nil, "closedAt": nil,
            "displayFinancialStatus": "PAID", "displayFulfillmentStatus": "FULFILLED", "currencyCode": "EUR", "tags": tags,
            "test": false, "note": note, "totalPriceSet": money(total), "subtotalPriceSet": money(total), "totalTaxSet": money("0.0"),
            "totalDiscountsSet": money("0.0"), "totalShippingPriceSet": money("0.0"), "totalRefundedSet": money("0.0"),
            "currentTotalPriceSet": money(total),
            "billingAddress": ["city": "Zürich", "address1": "Bahnhofstrasse 1"], "shippingAddress": nil,
        ])
    }

    static func lineItem(_ id: Int, order: Int, sku: String = "SKU", price: String = "5.00", title: String = "T-Shirt", quantity: Int = 2)
        -> String
    {
        json([
            "__typename": "LineItem", "id": "gid://shopify/LineItem/\(id)", "title": title, "name": title, "variantTitle": nil,
            "sku": sku, "vendor": "ACME", "quantity": quantity, "currentQuantity": quantity, "unfulfilledQuantity": 0,
            "variant": ["id": "gid://shopify/ProductVariant/\(id + 100)"], "product": ["id": "gid://shopify/Product/\(id + 200)"],
            "originalUnitPriceSet": ["shopMoney": ["amount": price, "currencyCode": "EUR"]],
            "discountedUnitPriceSet": money(price), "originalTotalSet": money(price), "discountedTotalSet": money(price),
            "totalDiscountSet": money("0.0"), "taxable": true, "requiresShipping": true, "isGiftCard": false,
            "customAttributes": [["key": "gift", "value": "yes"]], "__parentId": "gid://shopify/Order/\(order)",
        ])
    }
}
