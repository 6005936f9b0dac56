import BulkQueries
import Foundation
import Importer
import Loader
import Postgres
import TestSupport
import Testing

@Suite("Loader against the real database", .enabled(if: TestEnvironment.databaseTestsEnabled))
struct LoaderTests {
    /// Three orders with two line items each, parents first (grouped).
    static func grouped() -> [String] {
        var lines: [String] = []
        for o in 1...3 {
            lines.append(Lines.order(5000 + o, updatedAt: "2025-06-0\(o)T08:00:00Z"))
            for l in 1...2 { lines.append(Lines.lineItem(9000 + o * 10 + l, order: 5000 + o, sku: "S\(o)\(l)")) }
        }
        return lines
    }

    @Test("grouped and ungrouped files give identical tables")
    func groupedVersusUngrouped() throws {
        let a = try LoaderHarness()
        try a.load(Self.grouped().joined(separator: "\n") + "\n")
        let b = try LoaderHarness()
        // Children first, parents last, interleaved: what groupObjects: false may produce.
        let lines = Self.grouped()
        let children = lines.filter { $0.contains("\"LineItem\"") }
        let parents = lines.filter { !$0.contains("\"LineItem\"") }
        try b.load((children.reversed() + parents.reversed()).joined(separator: "\r\n"), chunkSizes: [7, 1, 300])
        for table in ["orders", "order_lines"] {
            #expect(try a.dump(table) == b.dump(table), "table \(table)")
        }
        #expect(try a.count("SELECT count(*) FROM order_lines") == 6)
        #expect(try b.count("SELECT count(*) FROM bulk_records") == 0)
    }

    @Test("a re-load is idempotent; an order whose line item disappeared loses it")
    func reloadAndVanishedChild() throws {
        let h = try LoaderHarness()
        let text = Self.grouped().joined(separator: "\n")
        try h.load(text)
        let before = try (h.dump("orders"), h.dump("order_lines"))
        let summary = try h.load(text)
        #expect(try h.dump("orders") == before.0)
        #expect(try h.dump("order_lines") == before.1)
        #expect(summary.rows["orders"] == 3)
        // Order 5001 comes back with only one of its two lines; 5002 and 5003 are not in this file.
        let again = try h.load(
            [Lines.order(5001, updatedAt: "2025-06-10T00:00:00Z"), Lines.lineItem(9011, order: 5001)].joined(separator: "\n"))
        #expect(again.removedChildren["order_lines"] == 1)
        #expect(try h.count("SELECT count(*) FROM order_lines WHERE order_id = 5001") == 1)
        #expect(try h.count("SELECT count(*) FROM order_lines") == 5)
    }

    @Test("an id listed twice: the last line wins, on a first import (plain INSERT path) and on a re-load (upsert)")
    func duplicateIDs() throws {
        let h = try LoaderHarness()
        let text = [
            Lines.order(1, name: "#first"), Lines.lineItem(11, order: 1, sku: "OLD"), Lines.order(1, name: "#second"),
            Lines.lineItem(11, order: 1, sku: "NEW"),
        ].joined(separator: "\n")
        try h.load(text)
        #expect(try h.connection.query("SELECT name FROM orders").first?["name"].string == "#second")
        #expect(try h.connection.query("SELECT sku FROM order_lines").first?["sku"].string == "NEW")
        try h.load(text)
        #expect(try h.count("SELECT count(*) FROM orders") == 1)
        #expect(try h.connection.query("SELECT sku FROM order_lines").first?["sku"].string == "NEW")
    }

    @Test("money is exact: 0.1 + 0.2 sums to 0.3")
    func exactMoney() throws {
        let h = try LoaderHarness()
        try h.load(
            [Lines.order(1, total: "0.1"), Lines.order(2, total: "0.2"), Lines.order(3, total: "123456789012345.67")].joined(
                separator: "\n"))
        let sum = try h.connection.query("SELECT sum(total_price)::text AS s FROM orders WHERE id IN (1, 2)").first?["s"].string
        #expect(sum == "0.3")
        #expect(try h.connection.query("SELECT total_price::text AS p FROM orders WHERE id = 3").first?["p"].string == "123456789012345.67")
    }

    @Test("non-ASCII, quotes, backslashes, tabs, newlines and U+2028 round-trip byte for byte")
    func textRoundTrip() throws {
        let h = try LoaderHarness()
        let nasty = "Zoë \"Q\" \\back\\slash\ttab\nnew line\r\n\u{2028}sep 山田 🚀 \\N"
        try h.load(Lines.order(1, tags: ["a,b", "quote\"d", "back\\slash", "{brace}", "NULL"], note: nasty) + "\n")
        let row = try #require(try h.connection.query("SELECT note, tags, billing_address->>'city' AS city FROM orders WHERE id = 1").first)
        #expect(row["note"].string == nasty)
        #expect(row["city"].string == "Zürich")
        let tags = try h.connection.query("SELECT unnest(tags) AS t FROM orders WHERE id = 1").map { $0["t"].string ?? "<null>" }
        #expect(tags == ["a,b", "quote\"d", "back\\slash", "{brace}", "NULL"])
    }

    @Test("a malformed line in the middle fails with line and byte offset and leaves the database exactly as before")
    func malformedLineRollsBack() throws {
        let h = try LoaderHarness()
        try h.load(Self.grouped().joined(separator: "\n"))
        let before = try (h.dump("orders"), h.dump("order_lines"), h.count("SELECT count(*) FROM sync_state"))
        var lines = (1...200).map { Lines.order(100 + $0, updatedAt: "2026-01-01T00:00:00Z") }
        lines[120] = "{\"id\": \"gid://shopify/Order/999\", \"name\": tru}"
        let offset = lines[0..<120].reduce(0) { $0 + $1.utf8.count + 1 }
        #expect {
            try h.load(lines.joined(separator: "\n"), chunkSizes: [4096])
        } throws: { error in
            let e = try #require(error as? LoadError)
            return e.line == 121 && (e.byteOffset ?? 0) >= offset && (e.byteOffset ?? 0) < offset + lines[120].utf8.count
                && e.description.contains("test.jsonl: line 121") && e.description.contains("Nothing was committed")
        }
        #expect(try h.dump("orders") == before.0)
        #expect(try h.dump("order_lines") == before.1)
        #expect(try h.count("SELECT count(*) FROM sync_state") == before.2)
    }

    @Test("--max-rejects skips up to N bad lines and records them in rejected_records")
    func maxRejects() throws {
        let h = try LoaderHarness()
        var lines = (1...10).map { Lines.order($0) }
        lines[3] = "{not json"
        lines[6] = Lines.order(7, total: "ten euros")
        let summary = try h.load(lines.joined(separator: "\n"), options: LoadOptions(maxRejects: 2))
        #expect(summary.rejected == 2)
        #expect(summary.rows["orders"] == 8)
        let rejected = try h.connection.query(
            "SELECT line_number, byte_offset, reason, convert_from(raw_line, 'UTF8') AS raw FROM rejected_records ORDER BY line_number")
        #expect(rejected.map { $0["line_number"].int } == [4, 7])
        #expect(rejected.first?["raw"].string == "{not json")
        #expect(rejected.rows[1]["reason"].string?.contains("totalPriceSet.shopMoney.amount") == true)
        #expect(try h.connection.query("SELECT status FROM sync_runs ORDER BY id DESC LIMIT 1").first?["status"].string == "partial")
        // One more bad line than allowed fails the whole load.
        lines[8] = "]"
        #expect(throws: LoadError.self) { try h.load(lines.joined(separator: "\n"), options: LoadOptions(maxRejects: 2)) }
    }

    @Test("a child whose parent never appears is reported and kept, not lost; unmapped types go to bulk_records")
    func orphansAndUnmapped() throws {
        let h = try LoaderHarness()
        let text = [
            Lines.order(1), Lines.lineItem(11, order: 1), Lines.lineItem(99, order: 404),
            #"{"__typename":"Fulfillment","id":"gid://shopify/Fulfillment/5","status":"SUCCESS","__parentId":"gid://shopify/Order/1"}"#,
        ].joined(separator: "\n")
        let summary = try h.load(text)
        #expect(summary.orphans["LineItem"] == 1)
        #expect(summary.otherRows == 1)
        #expect(try h.count("SELECT count(*) FROM order_lines") == 1)
        let kept = try h.connection.query("SELECT type, parent_gid, data->>'sku' AS sku FROM bulk_records ORDER BY gid")
        #expect(kept.map { $0["type"].string } == ["Fulfillment", "LineItem"])
        #expect(kept.rows[1]["parent_gid"].string == "gid://shopify/Order/404")
        #expect(kept.rows[1]["sku"].string == "SKU")
        // A later file that brings the parent makes the child loadable.
        try h.load([Lines.order(404), Lines.lineItem(99, order: 404)].joined(separator: "\n"))
        #expect(try h.count("SELECT count(*) FROM order_lines WHERE order_id = 404") == 1)
    }

    @Test("the high-water mark is the greatest (updated_at, id) and never moves back")
    func highWaterMark() throws {
        let h = try LoaderHarness()
        let first = try h.load(
            [
                Lines.order(1, updatedAt: "2025-06-01T00:00:00Z"), Lines.order(3, updatedAt: "2025-07-01T00:00:00Z"),
                Lines.order(2, updatedAt: "2025-07-01T00:00:00Z"),
            ].joined(separator: "\n"))
        #expect(first.highWaterUpdatedAt == "2025-07-01T00:00:00.000000Z")
        #expect(first.highWaterID == 3)
        try h.load(Lines.order(4, updatedAt: "2024-01-01T00:00:00Z"))
        let state = try #require(try h.connection.query("SELECT high_water_id FROM sync_state WHERE resource = 'orders'").first)
        #expect(state["high_water_id"].int == 3)
    }

    @Test("selected fields without a column are kept in extra")
    func extraColumn() throws {
        let h = try LoaderHarness()
        // `sku` and `customAttributes` are columns of order_lines only: on an order they belong in extra.
        let line =
            Lines.order(1).dropLast()
            + #","riskLevel":"LOW","transactions":[{"status":"SUCCESS"}],"sku":"O-\"1\"","customAttributes":[{"key":"k","value":null}]}"#
        try h.load(String(line))
        let extra = try h.connection.query(
            "SELECT extra->>'riskLevel' AS r, extra->'transactions'->0->>'status' AS f, extra->>'sku' AS sku, extra->'customAttributes'->0->>'key' AS k FROM orders"
        ).first
        #expect(extra?["r"].string == "LOW")
        #expect(extra?["f"].string == "SUCCESS")
        #expect(extra?["sku"].string == "O-\"1\"")
        #expect(extra?["k"].string == "k")
        // A line item's members that only orders map (here `email`) land in its extra too.
        let item = Lines.lineItem(11, order: 1).dropLast() + #","email":"x@example.com"}"#
        try h.load(String(item))
        #expect(try h.connection.query("SELECT extra->>'email' AS e FROM order_lines").first?["e"].string == "x@example.com")
    }

    @Test("a mapping to a missing column is an error naming both")
    func missingColumn() throws {
        let h = try LoaderHarness()
        let text = h.orders.text.replacingOccurrences(of: "-> financial_status", with: "-> money_status")
        let broken = try QueryFile(name: "orders", path: "queries/orders.graphql", text: text)
        #expect {
            _ = try BulkLoader(
                connection: h.connection, mapping: broken.mapping, queryFile: broken.path, shopID: h.shop.id, runID: 0, source: "x")
        } throws: { error in
            "\(error)".contains("displayFinancialStatus") && "\(error)".contains("orders.money_status")
        }
    }

    @Test("a load left unfinished on a connection its session has since closed is released without touching it")
    func unfinishedLoadAfterItsConnectionClosed() throws {
        let h = try LoaderHarness()
        let connection = try h.db.connect()
        var loader: BulkLoader? = try BulkLoader(
            connection: connection, mapping: h.orders.mapping, queryFile: h.orders.path, shopID: h.shop.id, runID: 0, source: "x")
        try loader?.begin()
        // The situation: the load's transaction is open when the session closes its connection
        // (a database restart, a reconnect), and the last reference to the load goes later.
        #expect(
            try h.count("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'") == 1)
        connection.close()
        loader = nil  // before the fix: ROLLBACK on the closed connection, a precondition failure
        #expect(loader == nil)
    }

    @Test("customers load, with the contacts and customer_accounts views")
    func customersAndViews() throws {
        let h = try LoaderHarness()
        let customer = Lines.json([
            "__typename": "Customer", "id": "gid://shopify/Customer/7001", "firstName": "Zoë", "lastName": "O'Brien",
            "displayName": "Zoë O'Brien",
            "defaultEmailAddress": ["emailAddress": "zoe@example.com"], "defaultPhoneNumber": nil, "state": "ENABLED",
            "verifiedEmail": true, "taxExempt": false, "locale": "de", "note": nil, "tags": [],
            "amountSpent": ["amount": "12.50", "currencyCode": "EUR"],
            "numberOfOrders": "3", "lastOrder": ["id": "gid://shopify/Order/5001"],
            "defaultAddress": ["company": "ACME AG", "city": "Bern"],
            "createdAt": "2024-01-01T00:00:00Z", "updatedAt": "2025-01-01T00:00:00Z",
        ])
        try h.load(customer, query: h.customers)
        #expect(try h.connection.query("SELECT full_name FROM contacts").first?["full_name"].string == "Zoë O'Brien")
        #expect(try h.count("SELECT count(*) FROM customer_accounts") == 0)
        try h.connection.execute("UPDATE shops SET customers_as = 'customer'")
        #expect(try h.connection.query("SELECT account_name FROM customer_accounts").first?["account_name"].string == "ACME AG")
        #expect(try h.count("SELECT count(*) FROM contacts") == 0)
        let row = try #require(
            try h.connection.query("SELECT number_of_orders, last_order_id, amount_spent::text AS a, email FROM customers").first)
        #expect(
            row["number_of_orders"].int == 3 && row["last_order_id"].int == 5001 && row["a"].string == "12.50"
                && row["email"].string == "zoe@example.com")
    }
}
