import Foundation
import Importer
import Postgres
import ServiceDesk
import TestSupport
import Testing

/// Customers and orders for lookups, loaded through the real loader.
enum LookupData {
    static func customer(
        _ id: Int, email: String?, first: String, last: String, company: String? = nil, updatedAt: String = "2025-05-01T00:00:00Z"
    ) -> String {
        Lines.json([
            "__typename": "Customer", "id": "gid://shopify/Customer/\(id)", "firstName": first, "lastName": last,
            "displayName": "\(first) \(last)", "defaultEmailAddress": email.map { ["emailAddress": $0] },
            "defaultPhoneNumber": ["phoneNumber": "+41790000\(id % 1000)"], "state": "ENABLED", "verifiedEmail": true, "taxExempt": false,
            "locale": "de", "note": "prefers e-mail", "tags": ["vip", "wholesale"],
            "amountSpent": ["amount": "42.50", "currencyCode": "EUR"],
            "numberOfOrders": "3", "lastOrder": nil,
            "defaultAddress": [
                "company": company.map { $0 as Any } ?? NSNull(), "address1": "Bahnhofstrasse 1", "zip": "8001", "city": "Zürich",
                "country": "Switzerland",
                "countryCodeV2": "CH",
            ], "createdAt": "2024-01-02T03:04:05Z", "updatedAt": updatedAt,
        ])
    }

    /// An order (see `Lines.order`) created at `createdAt`.
    static func order(_ id: Int, customer: Int?, email: String?, createdAt: String, total: String = "10.00") -> String {
        Lines.order(id, total: total, customer: customer, email: email)
            .replacingOccurrences(of: "\"createdAt\":\"2025-06-03T10:15:00Z\"", with: "\"createdAt\":\"\(createdAt)\"")
    }

    /// Ann (7001) has orders 5001 and 5002, a guest checkout 5003 with her address in other case, and
    /// 5006 from a customer who is not imported; Bob (7002) has 5004 and 5005, the latter placed
    /// with Ann's address (so it stays Bob's). 5007 is a guest checkout of someone without a customer.
    static func load(into h: LoaderHarness) throws {
        try h.load(
            [
                customer(7001, email: "Ann.Example@Example.COM", first: "Ann", last: "Example", company: "Example AG"),
                customer(7002, email: "bob@example.com", first: "Bob", last: "Other"),
            ].joined(separator: "\n"), query: h.customers)
        let ann = "ann.example@example.com"
        try h.load(
            [
                order(5001, customer: 7001, email: ann, createdAt: "2025-01-01T09:00:00Z"),
                Lines.lineItem(9011, order: 5001, sku: "TS-RED", price: "5.00", title: "T-Shirt", quantity: 2),
                Lines.lineItem(9012, order: 5001, sku: "MUG", price: "7.25", title: "Mug", quantity: 1),
                order(5002, customer: 7001, email: ann, createdAt: "2025-03-01T09:00:00Z", total: "99.90"),
                Lines.lineItem(9021, order: 5002, sku: "JKT", price: "99.90", title: "Jacket", quantity: 1),
                order(5003, customer: nil, email: "ANN.example@EXAMPLE.com", createdAt: "2025-02-01T09:00:00Z"),
                Lines.lineItem(9031, order: 5003, sku: "CAP", price: "12.00", title: "Cap", quantity: 1),
                order(5004, customer: 7002, email: "bob@example.com", createdAt: "2025-02-15T09:00:00Z"),
                order(5005, customer: 7002, email: ann, createdAt: "2025-02-16T09:00:00Z"),
                order(5006, customer: 7999, email: ann, createdAt: "2025-04-01T09:00:00Z"),
                order(5007, customer: nil, email: "guest@example.com", createdAt: "2025-04-02T09:00:00Z"),
            ].joined(separator: "\n"))
    }
}

@Suite("Service-desk lookup against the real database", .enabled(if: TestEnvironment.databaseTestsEnabled))
struct LookupTests {
    @Test("customer and guest orders by e-mail, case-insensitive, newest first, with line items")
    func customerAndGuestOrders() throws {
        let h = try LoaderHarness()
        try LookupData.load(into: h)
        let queries = ServiceDeskQueries(connection: h.connection)
        let r = try queries.lookup(shop: h.shop, email: "  ann.example@EXAMPLE.com ", orderLimit: 10)
        #expect(r.email == "ann.example@EXAMPLE.com")
        #expect(r.presentedAs == "contact")
        #expect(r.people.map(\.id) == [7001])
        let ann = try #require(r.people.first)
        #expect(ann.name == "Ann Example")
        #expect(ann.email == "Ann.Example@Example.COM")
        #expect(ann.tags == ["vip", "wholesale"])
        #expect(ann.amountSpent == "42.50" && ann.amountSpentCurrency == "EUR")
        #expect(ann.numberOfOrders == 3)
        #expect(ann.address == "Example AG, Bahnhofstrasse 1, 8001 Zürich, Switzerland")
        #expect(ann.createdAt == "2024-01-02T03:04:05Z")

        #expect(r.orderCount == 4)
        #expect(r.orders.map(\.id) == [5006, 5002, 5003, 5001])
        #expect(r.orders.map(\.matchedBy) == ["email", "customer", "guest", "customer"])
        let jacket = r.orders[1]
        #expect(jacket.name == "#5002")
        #expect(jacket.totalPrice == "99.90" && jacket.currency == "EUR")
        #expect(jacket.financialStatus == "PAID" && jacket.fulfillmentStatus == "FULFILLED")
        #expect(jacket.createdAt == "2025-03-01T09:00:00Z")
        #expect(jacket.lineItems.map(\.title) == ["Jacket"])
        let first = r.orders[3]
        #expect(first.lineItems.map(\.sku) == ["TS-RED", "MUG"])
        #expect(first.lineItems.map(\.quantity) == [2, 1])
        #expect(first.lineItems.map(\.unitPrice) == ["5.00", "7.25"])
        #expect(first.lineItems.allSatisfy { $0.currency == "EUR" })
        #expect(r.orders[2].lineItems.map(\.sku) == ["CAP"])
        #expect(r.orders[0].lineItems.isEmpty)

        // The limit keeps the newest; the count stays.
        let two = try queries.lookup(shop: h.shop, email: "ANN.EXAMPLE@example.com", orderLimit: 2)
        #expect(two.orders.map(\.id) == [5006, 5002])
        #expect(two.orderCount == 4)
        let none = try queries.lookup(shop: h.shop, email: "ann.example@example.com", orderLimit: 0)
        #expect(none.orders.isEmpty && none.orderCount == 4 && none.people.count == 1)
    }

    @Test("guest-only address, unknown address, deleted rows, customers presented as accounts")
    func edgeCases() throws {
        let h = try LoaderHarness()
        try LookupData.load(into: h)
        let queries = ServiceDeskQueries(connection: h.connection)

        let guest = try queries.lookup(shop: h.shop, email: "Guest@Example.com")
        #expect(guest.people.isEmpty)
        #expect(guest.orders.map(\.id) == [5007])
        #expect(!guest.isEmpty)

        #expect(try queries.lookup(shop: h.shop, email: "nobody@example.com").isEmpty)

        try h.connection.query("UPDATE orders SET deleted_at = now() WHERE id = 5006")
        let afterDelete = try queries.lookup(shop: h.shop, email: "ann.example@example.com")
        #expect(afterDelete.orders.map(\.id) == [5002, 5003, 5001])

        var accounts = h.shop
        accounts.customersAs = .customer
        try ShopStore(connection: h.connection).update(accounts)
        let account = try queries.lookup(shop: accounts, email: "ann.example@example.com")
        #expect(account.presentedAs == "customer")
        #expect(account.people.first?.name == "Example AG")
        #expect(account.people.first?.state == nil)

        try h.connection.query("UPDATE customers SET deleted_at = now() WHERE id = 7001")
        let gone = try queries.lookup(shop: accounts, email: "ann.example@example.com")
        #expect(gone.people.isEmpty)
        // Her orders still carry the address; they are found by e-mail now.
        #expect(gone.orders.map(\.id) == [5002, 5003, 5001])
        #expect(gone.orders.map(\.matchedBy) == ["email", "guest", "email"])

        // A deleted line is left out of its order; the order's other line stays.
        try h.connection.query("UPDATE order_lines SET deleted_at = now() WHERE id = 9012")
        let lines = try queries.lookup(shop: accounts, email: "ann.example@example.com")
        #expect(lines.orders.last?.lineItems.map(\.sku) == ["TS-RED"])
    }

    @Test("the lookup's two statements are index-backed on a shop of some size: the e-mail, customer and order indexes, no sequential scan")
    func indexBacked() throws {
        let h = try LoaderHarness()
        try LookupData.load(into: h)
        // Other people's rows, so that an index pays (on a handful of rows a scan is cheaper), and the
        // statistics autovacuum would gather for a table of this size.
        try h.connection.query(
            """
            INSERT INTO customers (shop_id, id, gid, email, updated_at)
            SELECT $1, 100000 + g, 'gid://shopify/Customer/' || (100000 + g), 'other' || g || '@example.com', now() FROM generate_series(1, 5000) g
            """, [h.shop.id])
        try h.connection.query(
            """
            INSERT INTO orders (shop_id, id, gid, name, email, customer_id, created_at)
            SELECT $1, 200000 + g, 'gid://shopify/Order/' || (200000 + g), '#' || (200000 + g), 'other' || (g % 5000) || '@example.com',
                   100000 + g % 5000, now() - g * interval '1 hour' FROM generate_series(1, 20000) g
            """, [h.shop.id])
        try h.connection.query(
            """
            INSERT INTO order_lines (shop_id, id, gid, order_id, quantity)
            SELECT $1, 300000 + g, 'gid://shopify/LineItem/' || (300000 + g), 200000 + (g % 20000) + 1, 1 FROM generate_series(1, 40000) g
            """, [h.shop.id])
        try h.connection.query("ANALYZE customers, orders, order_lines")
        let email = "ann.example@example.com"
        for customersAs in Shop.CustomersAs.allCases {
            let statements: [(String, [any PostgresBindable], [String])] = [
                (ServiceDeskQueries.peopleStatement(customersAs), [h.shop.id, email], ["customers_email_idx"]),
                (
                    ServiceDeskQueries.ordersStatement, [h.shop.id, email, ["7001"], 10],
                    ["orders_customer_idx", "orders_email_idx", "order_lines_order_idx"]
                ),
            ]
            for (sql, parameters, indexes) in statements {
                let plan = try h.connection.query("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + sql, parameters)
                    .compactMap { $0["QUERY PLAN"].string }
                // Nodes that ran: the people statement's mapped-e-mail branch sits behind a one-time
                // filter and is "never executed".
                let ran = plan.filter { !$0.contains("never executed") }
                let text = plan.joined(separator: "\n")
                for table in ["customers", "orders", "order_lines"] {
                    #expect(!ran.contains { $0.contains("Seq Scan on \(table) ") }, "\(customersAs):\n\(text)")
                }
                for index in indexes {
                    #expect(
                        ran.contains { $0.contains(" \(index) ") || $0.hasSuffix(" \(index)") },
                        "\(customersAs): \(index) not used:\n\(text)")
                }
            }
        }
        // The lookup's answer is unchanged by the others.
        let r = try ServiceDeskQueries(connection: h.connection).lookup(shop: h.shop, email: email)
        #expect(r.orders.map(\.id) == [5006, 5002, 5003, 5001])
    }

    @Test("shopbulk lookup: table, --json, and exit 1 without a match")
    func command() async throws {
        let h = try LoaderHarness()
        try LookupData.load(into: h)
        let cli = ShopbulkCLI(db: h.db)

        let table = try await cli.run(["lookup", "test", "--email", "ANN.example@example.com", "--orders", "3"])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("Contact: Ann Example <Ann.Example@Example.COM>"))
        #expect(table.stdout.contains("Orders: 3 of 4, newest first"))
        #expect(table.stdout.contains("#5002"))
        #expect(table.stdout.contains("Jacket"))
        #expect(table.stdout.contains("99.90 EUR"))
        #expect(!table.stdout.contains("#5001"))

        let json = try await cli.run(["lookup", "test", "--email", "ann.example@example.com", "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try #require(json.json as? [String: Any])
        #expect(object["order_count"] as? Int == 4)
        #expect(object["presented_as"] as? String == "contact")
        let orders = try #require(object["orders"] as? [[String: Any]])
        #expect(orders.compactMap { $0["name"] as? String } == ["#5006", "#5002", "#5003", "#5001"])
        let lines = try #require(orders[3]["line_items"] as? [[String: Any]])
        #expect(lines.compactMap { $0["unit_price"] as? String } == ["5.00", "7.25"])
        #expect((object["people"] as? [[String: Any]])?.first?["id"] as? Int == 7001)

        let miss = try await cli.run(["lookup", "test", "--email", "nobody@example.com"])
        #expect(miss.status == 1)
        #expect(miss.stderr.contains("no customer or order with e-mail nobody@example.com in shop test"))

        let noShop = try await cli.run(["lookup", "nope", "--email", "a@b.c"])
        #expect(noShop.status == 1)
        #expect(noShop.stderr.contains("no shop named 'nope'"))

        let bad = try await cli.run(["lookup", "test", "--email", "not-an-address"])
        #expect(bad.status == 2)
    }
}
