import Foundation
import Testing

@testable import ShopifySimulator

@Suite("Generated shop")
struct GeneratorTests {
    @Test func recordsArePureFunctionsOfSeedAndIndex() {
        let a = ShopSnapshot(seed: 42, customers: 100, orders: 300)
        let b = ShopSnapshot(seed: 42, customers: 100, orders: 300)
        let c = ShopSnapshot(seed: 43, customers: 100, orders: 300)
        #expect(a.order(at: 123) == b.order(at: 123))
        #expect(a.customer(at: 7) == b.customer(at: 7))
        #expect(a.order(at: 123) != c.order(at: 123))
    }

    @Test func moneyIsADecimalStringLikeShopifys() {
        #expect(SimMoney(minorUnits: 897, currencyCode: "EUR").amount == "8.97")
        #expect(SimMoney(minorUnits: 2000, currencyCode: "EUR").amount == "20.0")
        #expect(SimMoney(minorUnits: 1250, currencyCode: "USD").amount == "12.5")
        #expect(SimMoney(minorUnits: 5, currencyCode: "USD").amount == "0.05")
        #expect(SimMoney(minorUnits: 1500, currencyCode: "JPY").amount == "1500.0")
        #expect(SimMoney(minorUnits: 1250, currencyCode: "USD").decimal == Decimal(string: "12.5"))
    }

    @Test func realisticValuesShowUp() {
        let s = ShopSnapshot(seed: 1, customers: 400, orders: 2000)
        let customers = Array(s.customers)
        let orders = Array(s.orders)
        #expect(customers.count == 400)
        #expect(orders.count == 2000)
        let items = orders.reduce(0) { $0 + $1.lineItems.count }
        let avg = Double(items) / Double(orders.count)
        #expect(avg > 2.3 && avg < 2.7, "average line items \(avg)")
        #expect(items == s.liveLineItemCount)
        let names = customers.compactMap(\.firstName) + customers.compactMap(\.lastName)
        #expect(names.contains { $0.unicodeScalars.contains { !$0.isASCII } })
        #expect(names.contains("山田") || names.contains("Zoë") || names.contains("Łukasz"))
        let notes = customers.compactMap(\.note) + orders.compactMap(\.note)
        #expect(notes.contains { $0.contains("\n") })
        #expect(notes.contains { $0.contains("\t") })
        #expect(notes.contains { $0.contains("\"") })
        #expect(notes.contains { $0.contains("\\") })
        #expect(notes.contains { $0.contains("\u{2028}") })
        #expect(orders.contains { $0.customerId == nil })  // guest orders
        #expect(customers.contains { $0.firstName == nil || $0.email == nil })
        #expect(Set(orders.map(\.currencyCode)).count >= 5)
        #expect(customers.contains { $0.tags.count >= 2 })
        let years = Set(orders.map { $0.createdAt.prefix(4) })
        #expect(years.count >= 4)
        // createdAt strictly increases with the index (CREATED_AT order = ID order)
        for (a, b) in zip(orders, orders.dropFirst()) { #expect(a.createdAtEpoch < b.createdAtEpoch) }
        for o in orders { #expect(o.updatedAtEpoch >= o.createdAtEpoch) }
        // money adds up
        for o in orders.prefix(50) {
            let sub = o.lineItems.reduce(Int64(0)) { $0 + $1.discountedTotal.minorUnits }
            #expect(o.subtotalPrice.minorUnits == sub)
            #expect(o.totalPrice.minorUnits == sub + o.totalTax.minorUnits + o.totalShippingPrice.minorUnits)
        }
        // an order's e-mail is its customer's
        for o in orders.prefix(200) where o.customerIndex != nil {
            #expect(o.email == s.customer(at: o.customerIndex!)?.email)
        }
    }

    @Test("shipments and refunds: most paid orders shipped, some parcels on their way, a few refunds, real carriers' formats")
    func shipmentsAndRefunds() throws {
        let s = ShopSnapshot(seed: 3, customers: 400, orders: 5000)
        let orders = Array(s.orders)
        let paid = orders.filter {
            ["PAID", "PARTIALLY_REFUNDED", "REFUNDED"].contains($0.displayFinancialStatus) && $0.cancelledAtEpoch == nil
        }
        let shipped = paid.filter { !$0.fulfillments.isEmpty }
        #expect(Double(shipped.count) / Double(paid.count) > 0.7, "\(shipped.count) of \(paid.count) paid orders shipped")
        let shipments = orders.flatMap(\.fulfillments)
        let delivered = shipments.filter { $0.displayStatus == "DELIVERED" }
        let moving = shipments.filter { ["IN_TRANSIT", "OUT_FOR_DELIVERY"].contains($0.displayStatus) }
        #expect(Double(delivered.count) / Double(shipments.count) > 0.8)
        #expect(moving.count > 20 && moving.count < shipments.count / 5, "\(moving.count) of \(shipments.count) on their way")
        // Times in order: created, in transit, delivered; a delivered parcel has no open estimate past it.
        for f in shipments {
            if let t = f.inTransitAtEpoch { #expect(t > f.createdAtEpoch) }
            if let d = f.deliveredAtEpoch { #expect(d > (f.inTransitAtEpoch ?? .max) && f.displayStatus == "DELIVERED") }
        }
        #expect(orders.filter { $0.cancelledAtEpoch != nil }.allSatisfy { $0.fulfillments.isEmpty })
        let formats: [String: String] = [
            "UPS": #"^1Z[0-9A-Z]{6}03[0-9]{8}$"#, "USPS": #"^9400[0-9]{18}$"#, "FedEx": #"^[0-9]{12}$"#,
            "DHL Express": #"^[0-9]{10}$"#, "Royal Mail": #"^[A-Z]{2}[0-9]{9}GB$"#, "Canada Post": #"^[0-9]{16}$"#,
        ]
        let parcels = shipments.flatMap(\.tracking)
        for (company, pattern) in formats {
            let mine = parcels.filter { $0.company == company }
            #expect(mine.count > 10, "\(company): \(mine.count)")
            #expect(mine.allSatisfy { $0.number.range(of: pattern, options: .regularExpression) != nil }, "\(company)")
            #expect(mine.allSatisfy { $0.url?.hasPrefix("https://") == true && $0.url!.contains($0.number) })
        }
        // Hostile values a client must escape: a hand-typed courier and a tracking link that is not a web page.
        #expect(parcels.contains { $0.url == "javascript:alert(1)" })
        #expect(parcels.contains { $0.company.contains("<") })
        let refunded = orders.filter { !$0.refunds.isEmpty }
        #expect(refunded.count > orders.count / 20 && refunded.count < orders.count / 3, "\(refunded.count) refunded")
        for o in refunded {
            #expect(o.refunds.reduce(Decimal(0)) { $0 + $1.amount.decimal } == o.totalRefunded.decimal)
            #expect(o.refunds.allSatisfy { $0.createdAtEpoch > o.createdAtEpoch && $0.amount.minorUnits > 0 })
        }
        #expect(orders.filter { $0.refunds.isEmpty }.allSatisfy { $0.totalRefunded.minorUnits == 0 })
    }

    @Test func touchAddDeleteChangeTheSnapshot() {
        var s = ShopSnapshot(seed: 3, customers: 10, orders: 40)
        let now = ISOTime.make(2026, 11, 1)
        let t = s.touch(customers: [2], orders: [5, 6], at: now)
        #expect(t.orderIds == [ShopGenerator.orderId(5), ShopGenerator.orderId(6)])
        #expect(s.order(at: 5)?.updatedAtEpoch == now)
        #expect(s.order(at: 5)?.tags.contains("touched") == true)
        let a = s.add(customers: 1, orders: 2, at: now)
        #expect(a.orderIds.count == 2)
        #expect(s.liveOrderCount == 42)
        #expect(s.order(at: 41)?.createdAtEpoch == now)
        let d = s.delete(customers: [], orders: [0, 1])
        #expect(d.orderIds.count == 2)
        #expect(s.order(at: 0) == nil)
        #expect(s.liveOrderCount == 40)
        #expect(Array(s.orders).count == 40)
        #expect(s.orders(ofCustomer: 3).allSatisfy { $0.customerIndex == 3 })
    }
}

@Suite("JSON, time and search syntax")
struct SupportTests {
    @Test func writerEscapesLikeJSON() throws {
        let tricky = "Zoë \"quoted\" back\\slash\nnew\ttab\r\u{2028}sep\u{01}ctl 山田 🎁"
        var w = JSONWriter()
        w.beginObject(); w.field("s", tricky); w.key("n"); w.null(); w.key("a"); w.beginArray(); w.int(-12); w.bool(true); w.endArray();
        w.endObject()
        #expect(!w.string.contains("\u{2028}"))
        #expect(w.string.contains("\\u2028"))
        let back = try JSONSerialization.jsonObject(with: w.data) as? [String: Any]
        #expect(back?["s"] as? String == tricky)
        #expect(w.string.hasSuffix(#""n":null,"a":[-12,true]}"#))
    }

    @Test func isoTimeRoundTrips() {
        let t = ISOTime.make(2025, 6, 3, 10, 15, 0)
        #expect(ISOTime.format(t) == "2025-06-03T10:15:00Z")
        #expect(ISOTime.parse("2025-06-03T10:15:00Z")?.0 == t)
        #expect(ISOTime.parse("2025-06-03T12:15:00+02:00")?.0 == t)
        #expect(ISOTime.parse("2025-06-03T10:15:00.250Z")?.0 == t)
        #expect(ISOTime.parse("2025-06-03")?.hasTime == false)
        #expect(ISOTime.parse("junk") == nil)
    }

    @Test func searchQueryParsesComparatorsQuotesAndAnd() {
        let q = SearchQuery.parse("updated_at:>='2025-06-01T00:00:00Z' AND updated_at:<\"2025-07-01T00:00:00Z\" status:open")
        #expect(q.alternatives.count == 1)
        #expect(q.alternatives[0].count == 3)
        #expect(q.alternatives[0][0] == .init(field: "updated_at", comparator: .ge, value: "2025-06-01T00:00:00Z", quoted: true))
        #expect(q.alternatives[0][1].comparator == .lt)
        let june = ISOTime.make(2025, 6, 15)
        #expect(q.matches(date: { $0 == "updated_at" ? june : nil }))
        #expect(!q.matches(date: { $0 == "updated_at" ? ISOTime.make(2025, 7, 1) : nil }))
        #expect(q.matches(date: { $0 == "updated_at" ? ISOTime.make(2025, 6, 1) : nil }))  // inclusive >=
        let gt = SearchQuery.parse("created_at:>'2025-06-01T00:00:00Z'")
        #expect(!gt.matches(date: { $0 == "created_at" ? ISOTime.make(2025, 6, 1) : nil }))
        let or = SearchQuery.parse("created_at:<2022-01-02 OR created_at:>2026-01-01")
        #expect(or.alternatives.count == 2)
        // An unquoted date-time loses its time part (observed on Shopify).
        let unquoted = SearchQuery.parse("updated_at:>=2025-06-01T12:00:00Z")
        #expect(unquoted.matches(date: { _ in ISOTime.make(2025, 6, 1, 1) }))
    }
}
