import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Importer
import Mustache
import ServiceDesk

/// The ticket-screen panel: server-rendered HTML (swift-mustache; every `{{value}}` is HTML-escaped;
/// the only unescaped inserts are the layout's own style sheet and the already rendered page), one
/// inline style sheet allowed by its hash, no
/// script, framed only by the operator's origins (`frame-ancestors`).
struct PanelRenderer: Sendable {
    let library: MustacheLibrary
    let contentSecurityPolicy: String

    init(frameAncestors: [String]) throws {
        var library = MustacheLibrary()
        library.register(try MustacheTemplate(string: PanelTemplates.layout), named: "layout")
        library.register(try MustacheTemplate(string: PanelTemplates.panel), named: "panel")
        library.register(try MustacheTemplate(string: PanelTemplates.message), named: "message")
        self.library = library
        let styleHash = Data(SHA256.hash(data: Array(PanelTemplates.style.utf8))).base64EncodedString()
        let ancestors = frameAncestors.isEmpty ? "'none'" : frameAncestors.joined(separator: " ")
        contentSecurityPolicy =
            "default-src 'none'; style-src 'sha256-\(styleHash)'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors \(ancestors)"
    }

    func html(_ status: HTTPResponse.Status, _ body: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.cacheControl] = "no-store"
        headers[.xContentTypeOptions] = "nosniff"
        // The link's token must not leave with a click on a tracking link.
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    func render(_ name: String, _ context: [String: Any], title: String) -> String {
        let content = library.render(context, withTemplate: name) ?? ""
        return library.render(["title": title, "style": PanelTemplates.style, "content": content], withTemplate: "layout") ?? ""
    }

    /// A friendly page for a link or lookup that cannot be shown.
    func message(_ status: HTTPResponse.Status, title: String, text: String) -> Response {
        html(status, render("message", ["heading": title, "text": text], title: title))
    }

    func page(_ lookup: ServiceDeskLookup) -> Response {
        let view = PanelView.make(lookup)
        let name = (view["people"] as? [[String: Any]])?.first?["name"] as? String ?? lookup.email
        return html(.ok, render("panel", view, title: name))
    }
}

/// The panel's view of a lookup, built from the same JSON document the API returns (so fields the
/// lookup gains appear here by name: `fulfillments`, `refunds`).
enum PanelView {
    static func make(_ lookup: ServiceDeskLookup) -> [String: Any] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        guard let data = try? encoder.encode(lookup), let doc = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            return [:]
        }
        let people = (doc["people"] as? [[String: Any]] ?? []).map(person)
        let orders = (doc["orders"] as? [[String: Any]] ?? []).map(order)
        var view: [String: Any] = [
            "email": lookup.email, "shop": lookup.shop, "orderCount": lookup.orderCount, "shown": orders.count, "orders": orders,
            "kind": lookup.presentedAs == "customer" ? "Customer account" : "Contact",
        ]
        if !people.isEmpty { view["people"] = people }
        if orders.isEmpty { view["noOrders"] = true }
        return view
    }

    static func text(_ v: Any?) -> String? {
        switch v {
        case let s as String: return s.isEmpty ? nil : s
        case let n as NSNumber: return n.stringValue
        default: return nil
        }
    }

    static func person(_ p: [String: Any]) -> [String: Any] {
        var out: [String: Any] = ["name": text(p["name"]) ?? text(p["email"]) ?? "(no name)"]
        out["personEmail"] = text(p["email"])
        var facts: [[String: Any]] = []
        func fact(_ label: String, _ value: String?) { if let value { facts.append(["label": label, "value": value]) } }
        fact("Phone", text(p["phone"]))
        fact("Company", text(p["company"]))
        fact("Address", text(p["address"]))
        if let n = text(p["number_of_orders"]) { fact("Orders", n) }
        if let spent = text(p["amount_spent"]) { fact("Spent", money(spent, text(p["amount_spent_currency"]))) }
        fact("Customer since", text(p["created_at"]).map(day))
        fact("State", text(p["state"]).map(label))
        if let custom = p["custom_fields"] as? [String: Any] {
            for (k, v) in custom.sorted(by: { $0.key < $1.key }) { fact(k, text(v) ?? "–") }
        }
        out["facts"] = facts
        let tags = (p["tags"] as? [String] ?? []).map { ["tag": $0] }
        if !tags.isEmpty { out["tagList"] = ["tags": tags] }
        out["personNote"] = text(p["note"])
        return out
    }

    static func order(_ o: [String: Any]) -> [String: Any] {
        let currency = text(o["currency"])
        var out: [String: Any] = [
            "orderName": text(o["name"]) ?? text(o["id"]) ?? "order", "date": text(o["created_at"]).map(minute) ?? "",
        ]
        out["total"] = text(o["total_price"]).map { money($0, currency) }
        var badges: [[String: Any]] = []
        if text(o["cancelled_at"]) != nil { badges.append(["label": "Cancelled", "tone": "bad"]) }
        if let f = text(o["financial_status"]) { badges.append(["label": label(f), "tone": financialTone(f)]) }
        if let f = text(o["fulfillment_status"]) { badges.append(["label": label(f), "tone": fulfillmentTone(f)]) }
        out["badges"] = badges
        out["items"] = (o["line_items"] as? [[String: Any]] ?? []).map { l -> [String: Any] in
            let title = [text(l["title"]), text(l["variant_title"])].compactMap { $0 }.joined(separator: " / ")
            return ["quantity": text(l["quantity"]) ?? "1", "itemTitle": title.isEmpty ? "(item)" : title]
        }
        let shipments = (o["fulfillments"] as? [[String: Any]] ?? []).map { f -> [String: Any] in
            let status = text(f["display_status"]) ?? text(f["status"]) ?? "UNKNOWN"
            var s: [String: Any] = ["shipStatus": label(status), "shipTone": shipmentTone(status)]
            s["carrier"] = text(f["tracking_company"])
            s["trackingNumber"] = text(f["tracking_number"])
            s["trackingLink"] = text(f["tracking_url"]).flatMap(safeLink)
            if let d = text(f["delivered_at"]) {
                s["when"] = "delivered " + minute(d)
            } else if let e = text(f["estimated_delivery_at"]) {
                s["when"] = "expected " + day(e)
            } else if let t = text(f["in_transit_at"]) {
                s["when"] = "in transit since " + minute(t)
            } else if let c = text(f["created_at"]) {
                s["when"] = "shipped " + minute(c)
            }
            return s
        }
        if !shipments.isEmpty { out["shipments"] = shipments }
        let refunds = (o["refunds"] as? [[String: Any]] ?? []).map { r -> [String: Any] in
            var out: [String: Any] = ["refundAmount": text(r["amount"]).map { money($0, text(r["currency"]) ?? currency) } ?? "an amount"]
            out["refundDate"] = text(r["created_at"]).map(minute)
            out["refundNote"] = text(r["note"])
            return out
        }
        if !refunds.isEmpty { out["refunds"] = refunds }
        return out
    }

    /// Only http(s) URLs become links; anything else (`javascript:`, `data:`) is shown as text.
    static func safeLink(_ url: String) -> String? {
        guard let u = URL(string: url), let scheme = u.scheme?.lowercased(), scheme == "https" || scheme == "http", u.host != nil else {
            return nil
        }
        return url
    }

    static func money(_ amount: String, _ currency: String?) -> String { [amount, currency].compactMap { $0 }.joined(separator: " ") }
    static func minute(_ iso: String) -> String { String(iso.prefix(16)).replacingOccurrences(of: "T", with: " ") }
    static func day(_ iso: String) -> String { String(iso.prefix(10)) }
    /// `IN_TRANSIT` → `In transit`
    static func label(_ status: String) -> String {
        let words = status.replacingOccurrences(of: "_", with: " ").lowercased()
        return words.prefix(1).uppercased() + words.dropFirst()
    }

    static func financialTone(_ s: String) -> String {
        switch s {
        case "PAID": return "ok"
        case "REFUNDED", "PARTIALLY_REFUNDED": return "info"
        case "VOIDED", "EXPIRED": return "muted"
        default: return "warn"
        }
    }

    static func fulfillmentTone(_ s: String) -> String {
        switch s {
        case "FULFILLED": return "ok"
        case "RESTOCKED": return "muted"
        default: return "warn"
        }
    }

    static func shipmentTone(_ s: String) -> String {
        switch s {
        case "DELIVERED", "PICKED_UP": return "ok"
        case "IN_TRANSIT", "OUT_FOR_DELIVERY", "CONFIRMED", "LABEL_PRINTED", "LABEL_PURCHASED", "READY_FOR_PICKUP", "FULFILLED":
            return "info"
        case "FAILURE", "ATTEMPTED_DELIVERY", "CANCELED", "CANCELLED", "NOT_DELIVERED", "ERROR": return "bad"
        default: return "muted"
        }
    }
}

enum PanelTemplates {
    static let style = """
        *{box-sizing:border-box}body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;background:#fff}\
        main{padding:12px;max-width:720px}h1{font-size:17px;margin:0 0 2px;overflow-wrap:anywhere}h2{font-size:14px;margin:16px 0 8px}\
        .muted{color:#656d76}.sub{margin:0 0 8px;overflow-wrap:anywhere}dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:8px 0}\
        dt{color:#656d76}dd{margin:0;overflow-wrap:anywhere}.tags{margin:6px 0;display:flex;flex-wrap:wrap;gap:4px}\
        .tag{background:#eef1f4;border-radius:10px;padding:0 8px;font-size:12px}.note{background:#fff8c5;padding:6px 8px;border-radius:4px;margin:6px 0;overflow-wrap:anywhere}\
        .order{border:1px solid #d0d7de;border-radius:6px;padding:8px 10px;margin:0 0 8px}.order header{display:flex;flex-wrap:wrap;gap:4px 8px;align-items:baseline}\
        .total{margin-left:auto;font-weight:600}.badges{display:flex;flex-wrap:wrap;gap:4px;margin:6px 0}\
        .badge{border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;border:1px solid transparent}\
        .ok{background:#dafbe1;color:#116329}.info{background:#ddf4ff;color:#0550ae}.warn{background:#fff8c5;color:#7d4e00}\
        .bad{background:#ffebe9;color:#a40e26}.muted.badge{background:#eef1f4}\
        ul{margin:4px 0;padding-left:18px}li{overflow-wrap:anywhere}.ship,.refund{margin:6px 0 0;display:flex;flex-wrap:wrap;gap:4px 8px;align-items:baseline;overflow-wrap:anywhere}\
        .refund q{color:#656d76}a{color:#0969da;overflow-wrap:anywhere}
        """

    static let layout = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer"><link rel="icon" href="data:,">
        <title>{{title}}</title><style>{{{style}}}</style></head>
        <body><main>{{{content}}}</main></body></html>

        """

    static let panel = """
        {{#people}}<section class="person"><h1>{{name}}</h1><p class="sub muted">{{kind}} · {{personEmail}}</p>
        <dl>{{#facts}}<dt>{{label}}</dt><dd>{{value}}</dd>{{/facts}}</dl>
        {{#tagList}}<div class="tags">{{#tags}}<span class="tag">{{tag}}</span>{{/tags}}</div>{{/tagList}}
        {{#personNote}}<p class="note">{{personNote}}</p>{{/personNote}}</section>
        {{/people}}{{^people}}<section class="person"><h1>{{email}}</h1><p class="sub muted">No customer record: orders placed with this address.</p></section>
        {{/people}}<h2>Orders <span class="muted">{{shown}} of {{orderCount}}, newest first</span></h2>
        {{#noOrders}}<p class="muted">No orders.</p>{{/noOrders}}
        {{#orders}}<article class="order"><header><strong>{{orderName}}</strong><span class="muted">{{date}}</span><span class="total">{{total}}</span></header>
        <div class="badges">{{#badges}}<span class="badge {{tone}}">{{label}}</span>{{/badges}}</div>
        <ul>{{#items}}<li>{{quantity}} × {{itemTitle}}</li>{{/items}}</ul>
        {{#shipments}}<div class="ship"><span class="badge {{shipTone}}">{{shipStatus}}</span>{{#carrier}}<span>{{carrier}}</span>{{/carrier}}\
        {{#trackingLink}}<a href="{{trackingLink}}" target="_blank" rel="noopener noreferrer">{{trackingNumber}}{{^trackingNumber}}Track{{/trackingNumber}}</a>{{/trackingLink}}\
        {{^trackingLink}}{{#trackingNumber}}<span>{{trackingNumber}}</span>{{/trackingNumber}}{{/trackingLink}}\
        {{#when}}<span class="muted">{{when}}</span>{{/when}}</div>
        {{/shipments}}{{#refunds}}<div class="refund"><span class="badge info">Refund</span><span>{{refundAmount}}</span>\
        {{#refundDate}}<span class="muted">{{refundDate}}</span>{{/refundDate}}{{#refundNote}}<q>{{refundNote}}</q>{{/refundNote}}</div>
        {{/refunds}}</article>
        {{/orders}}
        """

    static let message = """
        <section class="message"><h1>{{heading}}</h1><p class="muted">{{text}}</p></section>

        """
}
