import ArgumentParser
import Foundation
import Importer
import ServiceDesk
import ShopifyAdmin

/// `shopbulk lookup SHOP --email ADDRESS [--orders N]`: the service-desk context for an e-mail address.
struct LookupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lookup",
        abstract: "Show the customer (contact or account) with an e-mail address and their latest orders with line items.",
        discussion: """
            Reads the imported data only (no Shopify request). The e-mail matches case-insensitively; orders \
            are the customer's, plus guest checkouts (and orders of customers not imported) that carry the \
            address. Exit status 1 when nothing matches.
            """)

    @Argument(help: "The shop (see `shopbulk shop list`).")
    var shop: String

    @Option(help: "The e-mail address to look up.")
    var email: String

    @Option(help: "How many of the latest orders to show (0 for none).")
    var orders: Int = 10

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        let trimmed = email.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.contains("@") else { throw ValidationError("--email must be an e-mail address") }
        guard (0...1000).contains(orders) else { throw ValidationError("--orders must be in 0...1000") }
    }

    func run() async throws {
        let context = try Context(database: database, output: output, schema: .requireCurrent)
        let shop = try ShopStore(connection: context.connection).require(shop)
        let result = try ServiceDeskQueries(connection: context.connection).lookup(shop: shop, email: email, orderLimit: orders)
        if result.isEmpty {
            throw ShopError(.notFound, "no customer or order with e-mail \(result.email) in shop \(shop.name)")
        }
        if output.json {
            printEncodable(result)
        } else {
            print(Self.render(result), terminator: "")
        }
    }

    /// The lookup for a terminal. Every field comes from the shop (storefront customers choose their
    /// names, addresses and notes), so each is escaped (`TerminalText`): no control character or
    /// bidi override reaches the terminal, and no value can start a line of its own.
    static func render(_ r: ServiceDeskLookup) -> String {
        func t(_ text: String) -> String { text.visiblyEscaped }
        var out = ""
        let kind = r.presentedAs == "customer" ? "Customer account" : "Contact"
        if r.people.isEmpty {
            out += "No \(kind.lowercased()) with e-mail \(t(r.email)) in shop \(t(r.shop)); orders placed with it:\n"
        }
        for p in r.people {
            out += "\(kind): \(t(p.name ?? "(no name)")) <\(t(p.email ?? r.email))>\n"
            var facts: [String] = []
            if let phone = p.phone { facts.append("phone \(t(phone))") }
            if let state = p.state { facts.append("state \(t(state))") }
            if let n = p.numberOfOrders { facts.append("\(n) orders") }
            if let spent = p.amountSpent {
                facts.append("spent \(t(spent)) \(t(p.amountSpentCurrency ?? ""))".trimmingCharacters(in: .whitespaces))
            }
            if !facts.isEmpty { out += "  " + facts.joined(separator: ", ") + "\n" }
            if let company = p.company, !company.isEmpty { out += "  company: \(t(TextTable.clean(company, max: 120)))\n" }
            if let address = p.address { out += "  address: \(t(address))\n" }
            for (name, value) in p.customFields.sorted(by: { $0.key < $1.key }) {
                out += "  \(t(name)): \(value.map { t(TextTable.clean($0, max: 120)) } ?? "-")\n"
            }
            if !p.tags.isEmpty { out += "  tags: \(p.tags.map(t).joined(separator: ", "))\n" }
            if let note = p.note, !note.isEmpty { out += "  note: \(TextTable.clean(note, max: 200))\n" }
            out += "  Shopify customer \(p.id)\(p.createdAt.map { ", since \(t(Self.day($0)))" } ?? "")\n"
        }
        out += "\n"
        if r.orderCount == 0 {
            out += "No orders.\n"
            return out
        }
        out += "Orders: \(r.orders.count) of \(r.orderCount), newest first\n"
        for o in r.orders {
            var table = TextTable(["ORDER", "DATE (UTC)", "FINANCIAL", "FULFILLMENT", "TOTAL", "MATCHED"], rightAligned: [4])
            table.append([
                o.name ?? String(o.id), o.createdAt.map(Self.minute), o.financialStatus, o.fulfillmentStatus,
                o.totalPrice.map { "\($0) \(o.currency ?? "")" }, o.matchedBy,
            ])
            out += "\n" + table.render(indent: "  ")
            if o.cancelledAt != nil { out += "  cancelled \(t(o.cancelledAt.map(Self.minute) ?? ""))\n" }
            if o.lineItems.isEmpty {
                out += "    (no line items imported)\n"
            } else {
                var lines = TextTable(["QTY", "ITEM", "SKU", "UNIT PRICE", "TOTAL"], rightAligned: [0, 3, 4])
                for l in o.lineItems {
                    let title = [l.title, l.variantTitle].compactMap { $0 }.joined(separator: " / ")
                    let currency = l.currency ?? o.currency ?? ""
                    lines.append([
                        l.quantity.map(String.init), title, l.sku, l.unitPrice.map { "\($0) \(currency)" },
                        l.total.map { "\($0) \(currency)" },
                    ])
                }
                out += lines.render(indent: "      ")
            }
            for f in o.fulfillments { out += "    " + Self.shipment(f) + "\n" }
            for r in o.refunds {
                var line = "    refunded \(t(r.amount ?? "?")) \(t(r.currency ?? o.currency ?? ""))"
                if let at = r.createdAt { line += " on \(t(Self.minute(at)))" }
                if let note = r.note, !note.isEmpty { line += ": \(TextTable.clean(note, max: 120))" }
                out += line + "\n"
            }
        }
        return out
    }

    /// One shipment on one line: `shipped 2025-06-04 12:00, DELIVERED 2025-06-07 14:00, UPS 1Z… <https://…>`.
    static func shipment(_ f: LookupFulfillment) -> String {
        func t(_ text: String) -> String { text.visiblyEscaped }
        // A fulfillment without a parcel (a gift card, a local pickup) was fulfilled, not shipped.
        let verb = f.inTransitAt != nil || !f.tracking.isEmpty ? "shipped" : "fulfilled"
        var parts = [verb + (f.createdAt.map { " " + t(minute($0)) } ?? "")]
        switch f.displayStatus ?? f.status ?? "?" {
        case "DELIVERED": parts.append("DELIVERED" + (f.deliveredAt.map { " " + t(minute($0)) } ?? ""))
        case "FULFILLED", "SUCCESS": break
        case let status: parts.append(t(status) + (f.estimatedDeliveryAt.map { ", expected " + t(day($0)) } ?? ""))
        }
        for parcel in f.tracking {
            var text = [parcel.company, parcel.number].compactMap { $0 }.map { TextTable.clean($0, max: 60) }.joined(separator: " ")
            if let url = parcel.url, url.hasPrefix("https://") || url.hasPrefix("http://") { text += " <\(t(url))>" }
            if !text.isEmpty { parts.append(text) }
        }
        return parts.joined(separator: ", ")
    }

    /// `2025-06-03T10:15:00Z` → `2025-06-03 10:15`
    static func minute(_ iso: String) -> String { String(iso.prefix(16)).replacingOccurrences(of: "T", with: " ") }
    static func day(_ iso: String) -> String { String(iso.prefix(10)) }
}

/// Prints a value as pretty JSON on stdout with snake_case keys (`--json`).
func printEncodable(_ value: some Encodable) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    if let data = try? encoder.encode(value) {
        FileHandle.standardOutput.write(data)
        FileHandle.standardOutput.write(Data("\n".utf8))
    }
}
