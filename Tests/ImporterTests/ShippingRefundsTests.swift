import Foundation
import Importer
import Postgres
import ServiceDesk
import ShopifySimulator
import TestSupport
import Testing

/// Orders' shipments and refunds: selected by the bundled orders query, stored with the order
/// (migration 0015), read by lookups and shown by `shopbulk lookup`.
@Suite("Shipping and refunds in the mirror", .enabled(if: TestEnvironment.databaseTestsEnabled))
struct ShippingRefundsTests {
    /// An order line (see `Lines.order`) with Shopify-shaped `fulfillments` and `refunds` lists.
    static func order(_ id: Int, customer: Int, email: String, fulfillments: String, refunds: String) -> String {
        let base = Lines.order(id, customer: customer, email: email)
        return String(base.dropLast()) + #","fulfillments":\#(fulfillments),"refunds":\#(refunds)}"#
    }

    static let delivered = #"""
        {"id":"gid://shopify/Fulfillment/301","status":"SUCCESS","displayStatus":"DELIVERED","createdAt":"2025-06-03T12:00:00Z",
         "inTransitAt":"2025-06-03T18:00:00Z","deliveredAt":"2025-06-05T09:30:00Z","estimatedDeliveryAt":"2025-06-05T00:00:00Z",
         "trackingInfo":[{"company":"UPS","number":"1Z999AA10123456784","url":"https://www.ups.com/track?tracknum=1Z999AA10123456784"},
                         {"company":"UPS","number":"1Z999AA10123456785","url":null}]}
        """#
    static let hostile = #"""
        {"id":"gid://shopify/Fulfillment/302","status":"SUCCESS","displayStatus":"IN_TRANSIT","createdAt":"2025-06-04T12:00:00Z",
         "inTransitAt":"2025-06-04T13:00:00Z","deliveredAt":null,"estimatedDeliveryAt":"2025-06-09T00:00:00Z",
         "trackingInfo":[{"company":"Evil\u001b[2J\"><script>x</script>","number":"X-1\nforged line","url":"javascript:alert(1)"}]}
        """#
    static let refund = #"""
        {"id":"gid://shopify/Refund/401","createdAt":"2025-06-10T08:00:00Z","note":"Damaged\u001b[31m in transit",
         "totalRefundedSet":{"shopMoney":{"amount":"4.50","currencyCode":"EUR"}}}
        """#

    @Test("fulfillments and refunds load into orders and come back from a lookup, every field, hostile values escaped on a terminal")
    func loadAndLookup() async throws {
        let h = try LoaderHarness()
        let compact = { (s: String) in s.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined() }
        try h.load(
            [
                Self.order(
                    5101, customer: 7001, email: "ann@example.com", fulfillments: "[\(compact(Self.delivered)),\(compact(Self.hostile))]",
                    refunds: "[\(compact(Self.refund))]"),
                Self.order(5102, customer: 7001, email: "ann@example.com", fulfillments: "[]", refunds: "[]"),
                // A shop's own query may leave both out: the order still loads, with empty lists in the lookup.
                Lines.order(5103, customer: 7001, email: "ann@example.com"),
            ].joined(separator: "\n"))
        #expect(try h.connection.query("SELECT jsonb_array_length(fulfillments) AS n FROM orders WHERE id = 5101").first?["n"].int == 2)
        #expect(try h.connection.query("SELECT fulfillments IS NULL AS n FROM orders WHERE id = 5103").first?["n"].bool == true)
        // Both lists have their own columns: nothing of them lands in `extra`.
        #expect(
            try h.connection.query("SELECT count(*) AS n FROM orders WHERE extra ? 'fulfillments' OR extra ? 'refunds'").first?["n"].int
                == 0)

        let r = try ServiceDeskQueries(connection: h.connection).lookup(shop: h.shop, email: "ann@example.com")
        let order = try #require(r.orders.first { $0.id == 5101 })
        #expect(order.fulfillments.count == 2)
        let first = order.fulfillments[0]
        #expect(first.id == 301 && first.status == "SUCCESS" && first.displayStatus == "DELIVERED")
        #expect(first.createdAt == "2025-06-03T12:00:00Z" && first.inTransitAt == "2025-06-03T18:00:00Z")
        #expect(first.deliveredAt == "2025-06-05T09:30:00Z" && first.estimatedDeliveryAt == "2025-06-05T00:00:00Z")
        #expect(first.trackingCompany == "UPS" && first.trackingNumber == "1Z999AA10123456784")
        #expect(first.trackingUrl == "https://www.ups.com/track?tracknum=1Z999AA10123456784")
        #expect(first.tracking.map(\.number) == ["1Z999AA10123456784", "1Z999AA10123456785"])
        #expect(order.fulfillments[1].displayStatus == "IN_TRANSIT" && order.fulfillments[1].deliveredAt == nil)
        let refund = try #require(order.refunds.first)
        #expect(order.refunds.count == 1 && refund.id == 401 && refund.createdAt == "2025-06-10T08:00:00Z")
        #expect(refund.note == "Damaged\u{1B}[31m in transit" && refund.amount == "4.50" && refund.currency == "EUR")
        #expect(r.orders.first { $0.id == 5102 }.map { $0.fulfillments.isEmpty && $0.refunds.isEmpty } == true)
        #expect(r.orders.first { $0.id == 5103 }.map { $0.fulfillments.isEmpty && $0.refunds.isEmpty } == true)

        let cli = ShopbulkCLI(db: h.db)
        let table = try await cli.run(["lookup", "test", "--email", "ann@example.com"])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(
            table.stdout.contains(
                "shipped 2025-06-03 12:00, DELIVERED 2025-06-05 09:30, UPS 1Z999AA10123456784 <https://www.ups.com/track?tracknum=1Z999AA10123456784>, UPS 1Z999AA10123456785"
            ))
        #expect(table.stdout.contains("IN_TRANSIT, expected 2025-06-09"))
        #expect(table.stdout.contains("refunded 4.50 EUR on 2025-06-10 08:00: Damaged"))
        // No escape sequence, no forged line, and a javascript: address is not offered as a link.
        #expect(!table.stdout.contains("\u{1B}"))
        #expect(!table.stdout.contains("\nforged line"))
        #expect(!table.stdout.contains("javascript:"))

        let json = try await cli.run(["lookup", "test", "--email", "ann@example.com", "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try #require(json.json as? [String: Any])
        let orders = try #require(object["orders"] as? [[String: Any]])
        let row = try #require(orders.first { $0["id"] as? Int == 5101 })
        let shipments = try #require(row["fulfillments"] as? [[String: Any]])
        #expect(shipments.first?["display_status"] as? String == "DELIVERED")
        #expect(shipments.first?["tracking_number"] as? String == "1Z999AA10123456784")
        #expect(shipments.last?["tracking_url"] as? String == "javascript:alert(1)")
        #expect((row["refunds"] as? [[String: Any]])?.first?["amount"] as? String == "4.50")
    }

    @Test("a value of another shape in orders.fulfillments is an error naming the column, not an empty list")
    func malformed() throws {
        let h = try LoaderHarness()
        try h.load(Lines.order(5201, customer: 7001, email: "ann@example.com"))
        try h.connection.execute(#"UPDATE orders SET fulfillments = '{"not":"a list"}' WHERE id = 5201"#)
        #expect {
            try ServiceDeskQueries(connection: h.connection).lookup(shop: h.shop, email: "ann@example.com")
        } throws: { error in
            "\(error)".contains("orders.fulfillments does not hold the list Shopify returns")
        }
    }

    @Test("an import from the simulator stores each order's shipments and refunds as the simulator made them")
    func importedFromSimulator() async throws {
        let h = try await EngineHarness.make(customers: 80, orders: 500)
        defer { Task { await h.stop() } }
        _ = try await h.full()
        let snapshot = h.sim.shop
        var delivered = 0, moving = 0, refunded = 0, tracked = 0, checked = 0
        for o in snapshot.orders {
            let row = try #require(
                try h.connection.query(
                    """
                    SELECT coalesce(fulfillments, '[]')::text AS f, coalesce(refunds, '[]')::text AS r, total_refunded::text AS t
                    FROM orders WHERE shop_id = $1 AND id = $2
                    """, [h.shop.id, o.id]
                ).first, "order \(o.name) is missing")
            let f = try #require(try JSONSerialization.jsonObject(with: Data((row["f"].string ?? "").utf8)) as? [[String: Any]])
            #expect(f.map { $0["displayStatus"] as? String } == o.fulfillments.map(\.displayStatus), "\(o.name)")
            #expect(f.map { $0["id"] as? String } == o.fulfillments.map(\.gid))
            let numbers = f.map { (($0["trackingInfo"] as? [[String: Any]]) ?? []).map { $0["number"] as? String } }
            #expect(numbers == o.fulfillments.map { $0.tracking.map(\.number) })
            let r = try #require(try JSONSerialization.jsonObject(with: Data((row["r"].string ?? "").utf8)) as? [[String: Any]])
            let amounts = r.map { (($0["totalRefundedSet"] as? [String: Any])?["shopMoney"] as? [String: Any])?["amount"] as? String }
            #expect(amounts == o.refunds.map(\.amount.amount), "\(o.name)")
            // The refunds add up to the order's total refunded.
            let sum = o.refunds.reduce(Decimal(0)) { $0 + $1.amount.decimal }
            #expect(sum == o.totalRefunded.decimal)
            delivered += o.fulfillments.filter { $0.displayStatus == "DELIVERED" }.count
            moving += o.fulfillments.filter { ["IN_TRANSIT", "OUT_FOR_DELIVERY"].contains($0.displayStatus) }.count
            refunded += o.refunds.isEmpty ? 0 : 1
            tracked += o.fulfillments.filter { !$0.tracking.isEmpty }.count
            checked += 1
        }
        // The situations arose: delivered and moving parcels, tracking numbers and refunds.
        #expect(checked == snapshot.liveOrderCount && checked > 400)
        #expect(delivered > 100 && moving > 0 && refunded > 10 && tracked > 100, "\(delivered) \(moving) \(refunded) \(tracked)")
    }
}
