import Foundation
import Importer
import NIOCore
import ServiceDesk

/// The lookup document written straight into bytes: the same JSON as `JSONEncoder` with
/// `.convertToSnakeCase`, `.sortedKeys` and `.withoutEscapingSlashes` (compact), byte for byte
/// (`LookupJSONTests` compares the two, and fails when a type gains a property this writer does not
/// write). Foundation's encoder took a quarter of the server's CPU per lookup (a value tree, snake-case
/// conversion and sorting of every key, every time); this is a single pass.
enum LookupJSON {
    static func encode(_ lookup: ServiceDeskLookup) -> ByteBuffer { ByteBuffer(bytes: bytes(lookup)) }
    static func encode(_ order: LookupOrder) -> ByteBuffer { ByteBuffer(bytes: bytes(order)) }

    /// The document and a newline (as `JSONOutput.encode` ends it).
    static func bytes(_ lookup: ServiceDeskLookup) -> [UInt8] {
        var w = Writer()
        w.lookup(lookup)
        w.bytes.append(UInt8(ascii: "\n"))
        return w.bytes
    }

    static func bytes(_ order: LookupOrder) -> [UInt8] {
        var w = Writer()
        w.order(order)
        w.bytes.append(UInt8(ascii: "\n"))
        return w.bytes
    }

    /// Keys in the order `.sortedKeys` gives (byte order of the snake-case names).
    struct Writer {
        var bytes: [UInt8] = []
        /// Whether the object being written has a member yet (one level per open object).
        private var first: [Bool] = []

        init() { bytes.reserveCapacity(16 * 1024) }

        mutating func lookup(_ l: ServiceDeskLookup) {
            open()
            key("email"); string(l.email)
            key("order_count"); int(l.orderCount)
            key("orders"); list(l.orders) { $0.order($1) }
            key("people"); list(l.people) { $0.person($1) }
            key("presented_as"); string(l.presentedAs)
            key("shop"); string(l.shop)
            close()
        }

        mutating func person(_ p: LookupPerson) {
            open()
            field("address", p.address)
            field("amount_spent", p.amountSpent)
            field("amount_spent_currency", p.amountSpentCurrency)
            field("company", p.company)
            field("created_at", p.createdAt)
            key("custom_fields"); customFields(p.customFields)
            field("email", p.email)
            key("gid"); string(p.gid)
            key("id"); int(p.id)
            field("name", p.name)
            field("note", p.note)
            if let n = p.numberOfOrders { key("number_of_orders"); int(n) }
            field("phone", p.phone)
            field("state", p.state)
            key("tags"); list(p.tags) { $0.string($1) }
            field("updated_at", p.updatedAt)
            close()
        }

        mutating func order(_ o: LookupOrder) {
            open()
            field("cancelled_at", o.cancelledAt)
            field("created_at", o.createdAt)
            field("currency", o.currency)
            field("current_total_price", o.currentTotalPrice)
            if let id = o.customerId { key("customer_id"); int(id) }
            field("email", o.email)
            field("financial_status", o.financialStatus)
            field("fulfillment_status", o.fulfillmentStatus)
            key("fulfillments"); list(o.fulfillments) { $0.fulfillment($1) }
            key("gid"); string(o.gid)
            key("id"); int(o.id)
            key("line_items"); list(o.lineItems) { $0.lineItem($1) }
            key("matched_by"); string(o.matchedBy)
            field("name", o.name)
            field("processed_at", o.processedAt)
            key("refunds"); list(o.refunds) { $0.refund($1) }
            field("subtotal_price", o.subtotalPrice)
            key("tags"); list(o.tags) { $0.string($1) }
            field("total_discounts", o.totalDiscounts)
            field("total_price", o.totalPrice)
            field("total_refunded", o.totalRefunded)
            field("total_shipping", o.totalShipping)
            field("total_tax", o.totalTax)
            close()
        }

        mutating func fulfillment(_ f: LookupFulfillment) {
            open()
            field("created_at", f.createdAt)
            field("delivered_at", f.deliveredAt)
            field("display_status", f.displayStatus)
            field("estimated_delivery_at", f.estimatedDeliveryAt)
            if let id = f.id { key("id"); int(id) }
            field("in_transit_at", f.inTransitAt)
            field("status", f.status)
            key("tracking"); list(f.tracking) { $0.tracking($1) }
            field("tracking_company", f.trackingCompany)
            field("tracking_number", f.trackingNumber)
            field("tracking_url", f.trackingUrl)
            close()
        }

        mutating func tracking(_ t: LookupTracking) {
            open()
            field("company", t.company)
            field("number", t.number)
            field("url", t.url)
            close()
        }

        mutating func refund(_ r: LookupRefund) {
            open()
            field("amount", r.amount)
            field("created_at", r.createdAt)
            field("currency", r.currency)
            if let id = r.id { key("id"); int(id) }
            field("note", r.note)
            close()
        }

        mutating func lineItem(_ l: LookupLineItem) {
            open()
            field("currency", l.currency)
            field("discounted_unit_price", l.discountedUnitPrice)
            key("id"); int(l.id)
            if let q = l.quantity { key("quantity"); int(q) }
            field("sku", l.sku)
            field("title", l.title)
            field("total", l.total)
            field("unit_price", l.unitPrice)
            field("variant_title", l.variantTitle)
            close()
        }

        /// A `[String: String?]` as `JSONEncoder` writes it: keys converted to snake case (the shop's
        /// custom field names are lower-case already, so they stay as they are) and sorted, nil as null.
        mutating func customFields(_ fields: [String: String?]) {
            open()
            for name in fields.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                key(Self.snakeCase(name))
                if let value = fields[name] ?? nil { string(value) } else { bytes.append(contentsOf: "null".utf8) }
            }
            close()
        }

        // MARK: - JSON

        mutating func open() {
            bytes.append(UInt8(ascii: "{"))
            first.append(true)
        }

        mutating func close() {
            bytes.append(UInt8(ascii: "}"))
            first.removeLast()
        }

        /// `"name":`, preceded by a comma unless it is the object's first member.
        mutating func key(_ name: StaticString) {
            separator()
            bytes.append(UInt8(ascii: "\""))
            name.withUTF8Buffer { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        }

        mutating func key(_ name: String) {
            separator()
            string(name)
            bytes.append(UInt8(ascii: ":"))
        }

        private mutating func separator() {
            if first[first.count - 1] {
                first[first.count - 1] = false
            } else {
                bytes.append(UInt8(ascii: ","))
            }
        }

        /// An optional member: left out when nil (what synthesized `Encodable` does with `encodeIfPresent`).
        mutating func field(_ name: StaticString, _ value: String?) {
            guard let value else { return }
            key(name)
            string(value)
        }

        mutating func list<T>(_ items: [T], _ each: (inout Writer, T) -> Void) {
            bytes.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                each(&self, item)
            }
            bytes.append(UInt8(ascii: "]"))
        }

        mutating func int<I: BinaryInteger>(_ value: I) {
            bytes.append(contentsOf: String(value).utf8)
        }

        private static let hex = Array("0123456789abcdef".utf8)

        /// A JSON string: `"` and `\` escaped, control characters as `\n` `\r` `\t` `\b` `\f` or
        /// `\u00XX`, everything else (slashes, non-ASCII) as it is.
        mutating func string(_ s: String) {
            bytes.append(UInt8(ascii: "\""))
            for b in s.utf8 {
                switch b {
                case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
                case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
                case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
                case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
                case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
                case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
                case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
                case 0..<0x20:
                    bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                    bytes.append(Self.hex[Int(b >> 4)])
                    bytes.append(Self.hex[Int(b & 0xF)])
                default: bytes.append(b)
                }
            }
            bytes.append(UInt8(ascii: "\""))
        }

        /// `JSONEncoder.KeyEncodingStrategy.convertToSnakeCase` of a dictionary key: the shop's custom
        /// field names are lower-case (`contact_field_map`'s check), so they stay as they are; anything else
        /// goes through Foundation's own conversion.
        static func snakeCase(_ name: String) -> String {
            guard name.utf8.contains(where: { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }) else { return name }
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            guard let data = try? encoder.encode([name: 0]),
                let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any], let converted = object.keys.first
            else { return name }
            return converted
        }
    }
}
