import Foundation
import Testing

@testable import Importer
@testable import ServiceDesk
@testable import ServiceDeskServer

/// `LookupJSON` against `JSONEncoder` (snake case, sorted keys, slashes kept, compact): byte for byte,
/// and every stored property of every type of the document written.
@Suite("LookupJSON: the lookup document as JSONEncoder writes it")
struct LookupJSONTests {
    static let hostile = "Zoë \"<script>alert('x')</script>\" \\ back/slash\n\r\t\u{8}\u{c}\u{1}\u{1f}\u{7f} 🎁 \u{2028}"

    static func full() -> ServiceDeskLookup {
        let person = LookupPerson(
            id: 6_000_000_000_001, gid: "gid://shopify/Customer/6000000000001", name: hostile, email: "Ann@example.com", phone: "+15550100",
            state: "ENABLED", tags: ["vip", hostile], note: "call after 5", numberOfOrders: 12, amountSpent: "1234.50",
            amountSpentCurrency: "EUR", address: "Acme, 1 Main St", createdAt: "2024-01-02T03:04:05Z", updatedAt: "2025-01-02T03:04:05Z",
            company: "Acme", customFields: ["loyalty_tier": "gold", "vip_since": nil, "zeta": hostile, "Upper": "x"])
        let sparse = LookupPerson(
            id: 2, gid: "", name: nil, email: nil, phone: nil, state: nil, tags: [], note: nil, numberOfOrders: nil, amountSpent: nil,
            amountSpentCurrency: nil, address: nil, createdAt: nil, updatedAt: nil)
        let line = LookupLineItem(
            id: 4_000_000_000_001, title: hostile, variantTitle: "M", sku: "SKU-1", quantity: 3, unitPrice: "8.97",
            discountedUnitPrice: "8.00",
            total: "24.00", currency: "EUR")
        let bareLine = LookupLineItem(
            id: 5, title: nil, variantTitle: nil, sku: nil, quantity: nil, unitPrice: nil, discountedUnitPrice: nil, total: nil,
            currency: nil)
        let fulfillment = LookupFulfillment(
            id: 7, status: "SUCCESS", displayStatus: "IN_TRANSIT", createdAt: "2025-01-03T00:00:00Z", inTransitAt: "2025-01-04T00:00:00Z",
            deliveredAt: "2025-01-05T00:00:00Z", estimatedDeliveryAt: "2025-01-06T00:00:00Z", trackingCompany: "UPS",
            trackingNumber: "1Z999",
            trackingUrl: "javascript:alert(1)",
            tracking: [LookupTracking(company: "UPS", number: "1Z999", url: "https://ups.com/t?n=1Z999&x=/"), LookupTracking()])
        let order = LookupOrder(
            id: 5_000_000_000_001, gid: "gid://shopify/Order/5000000000001", name: "#1001", email: "ann@example.com",
            customerId: 6_000_000_000_001,
            matchedBy: "customer", createdAt: "2025-01-02T00:00:00Z", processedAt: "2025-01-02T00:00:01Z",
            cancelledAt: "2025-01-02T00:00:02Z",
            financialStatus: "PARTIALLY_REFUNDED", fulfillmentStatus: "FULFILLED", currency: "EUR", totalPrice: "29.95",
            subtotalPrice: "24.00", totalTax: "1.92", totalDiscounts: "0", totalShipping: "5.95", totalRefunded: "8.00",
            currentTotalPrice: "21.95", tags: ["gift"], lineItems: [line, bareLine], fulfillments: [fulfillment, LookupFulfillment()],
            refunds: [
                LookupRefund(id: 9, createdAt: "2025-01-09T00:00:00Z", note: hostile, amount: "8.00", currency: "EUR"), LookupRefund(),
            ])
        let guest = LookupOrder(
            id: 3, gid: "g", name: nil, email: nil, customerId: nil, matchedBy: "guest", createdAt: nil, processedAt: nil, cancelledAt: nil,
            financialStatus: nil, fulfillmentStatus: nil, currency: nil, totalPrice: nil, subtotalPrice: nil, totalTax: nil,
            totalDiscounts: nil, totalShipping: nil, totalRefunded: nil, currentTotalPrice: nil, tags: [], lineItems: [])
        return ServiceDeskLookup(
            shop: "desk", email: hostile, presentedAs: "contact", people: [person, sparse], orderCount: 2, orders: [order, guest])
    }

    static func foundation(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test("a full document, an empty one and one order: the same bytes as JSONEncoder")
    func sameBytes() throws {
        let full = Self.full()
        #expect(Self.text(LookupJSON.bytes(full)) == (try Self.foundation(full)))
        let empty = ServiceDeskLookup(
            shop: "s", email: "nobody@example.com", presentedAs: "customer", people: [], orderCount: 0, orders: [])
        #expect(Self.text(LookupJSON.bytes(empty)) == (try Self.foundation(empty)))
        for order in full.orders {
            #expect(Self.text(LookupJSON.bytes(order)) == (try Self.foundation(order)))
        }
    }

    /// Each key JSONEncoder writes for a value with every optional set must be in LookupJSON's output:
    /// a property added to a lookup type and not to the writer fails here.
    @Test("every stored property of the document's types is written")
    func everyProperty() throws {
        let full = Self.full()
        let ours = try JSONSerialization.jsonObject(with: Data(Self.text(LookupJSON.bytes(full)).utf8)) as? NSDictionary
        let theirs = try JSONSerialization.jsonObject(with: Data(try Self.foundation(full).utf8)) as? NSDictionary
        #expect(ours != nil && ours == theirs)
        func labels(_ value: Any) -> Int { Mirror(reflecting: value).children.count }
        let order = full.orders[0]
        let written = (ours?["orders"] as? [[String: Any]])?.first
        #expect(written?.count == labels(order), "LookupOrder has \(labels(order)) properties; the writer wrote \(written?.count ?? 0)")
        let person = (ours?["people"] as? [[String: Any]])?.first
        #expect(person?.count == labels(full.people[0]))
        #expect((written?["line_items"] as? [[String: Any]])?.first?.count == labels(order.lineItems[0]))
        #expect((written?["fulfillments"] as? [[String: Any]])?.first?.count == labels(order.fulfillments[0]))
        #expect((written?["refunds"] as? [[String: Any]])?.first?.count == labels(order.refunds[0]))
        #expect(ours?.count == labels(full))
    }
}
