import Foundation
import HTTP
import Postgres
import ServiceDeskServer
import TestSupport
import Testing

@Suite(
    "shopbulk serve: routes, keys, panel against the real server and database", .serialized,
    .enabled(if: TestEnvironment.databaseTestsEnabled))
struct ServeRouteTests {
    @Test("contacts: the same document as lookup --json; not found, bad key, revoked key, key limited to another shop")
    func contacts() async throws {
        let h = try ServeHarness()
        try await Fixture.load(into: h)
        let all = try await h.createKey("desk-all")
        let otherOnly = try await h.createKey("other-only", shops: ["other"])
        let revoked = try await h.createKey("revoked")
        #expect(all.hasPrefix("sbk_") && all.count == 47)
        let s = try h.start()

        let found = try await Web.get(s.base + "/v1/shops/desk/contacts?email=ANN@example.com&orders=2", key: all)
        #expect(found.status == 200)
        #expect(found.headers.header("content-type")?.hasPrefix("application/json") == true)
        let cli = try await h.cli(["lookup", "desk", "--email", "ANN@example.com", "--orders", "2", "--json"])
        #expect(cli.status == 0, "\(cli.stderr)")
        let served = try JSONSerialization.jsonObject(with: Data(found.body.utf8)) as? NSDictionary
        let printed = try JSONSerialization.jsonObject(with: Data(cli.stdout.utf8)) as? NSDictionary
        #expect(served != nil && served == printed)
        #expect(found.json?["order_count"] as? Int == 3)
        #expect((found.json?["orders"] as? [[String: Any]])?.map { $0["name"] as? String } == ["#1003", "#1002"])

        let missing = try await Web.get(s.base + "/v1/shops/desk/contacts?email=nobody@example.com", key: all)
        #expect(missing.status == 404 && missing.errorCode == "not_found")
        let noShop = try await Web.get(s.base + "/v1/shops/nope/contacts?email=ann@example.com", key: all)
        #expect(noShop.status == 404 && noShop.errorCode == "shop_not_found")
        let badEmail = try await Web.get(s.base + "/v1/shops/desk/contacts?email=nope", key: all)
        #expect(badEmail.status == 400)
        let badOrders = try await Web.get(s.base + "/v1/shops/desk/contacts?email=ann@example.com&orders=-1", key: all)
        #expect(badOrders.status == 400)

        let noKey = try await Web.get(s.base + "/v1/shops/desk/contacts?email=ann@example.com")
        #expect(noKey.status == 401 && noKey.headers.header("www-authenticate")?.hasPrefix("Bearer") == true)
        let badKey = try await Web.get(s.base + "/v1/shops/desk/contacts?email=ann@example.com", key: all + "x")
        #expect(badKey.status == 401 && badKey.errorCode == "unauthorized")
        let limited = try await Web.get(s.base + "/v1/shops/desk/contacts?email=ann@example.com", key: otherOnly)
        #expect(limited.status == 403 && limited.errorCode == "forbidden")
        let allowed = try await Web.get(s.base + "/v1/shops/other/contacts?email=bob@example.com", key: otherOnly)
        #expect(allowed.status == 200)

        // Revocation: accepted before, refused within the key cache's second after.
        #expect(try await Web.get(s.base + "/v1/shops/desk/contacts?email=ann@example.com", key: revoked).status == 200)
        let revoke = try await h.cli(["apikey", "revoke", "revoked"])
        #expect(revoke.status == 0, "\(revoke.stderr)")
        try await waitUntil(5, "the revoked key to be refused") {
            try await Web.get(s.base + "/v1/shops/desk/contacts?email=ann@example.com", key: revoked).status == 401
        }
        let list = try await h.cli(["apikey", "list", "--json"])
        let keys = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(keys.count == 3)
        #expect(keys.first { $0["name"] as? String == "revoked" }?["revoked_at"] is String)
        #expect(keys.first { $0["name"] as? String == "other-only" }?["shops"] as? [String] == ["other"])

        // Nothing secret in the database, the listing or the access log.
        let stored = try h.db.connect().query("SELECT name, encode(key_hash, 'hex') AS h, shops::text AS s FROM api_keys")
        for row in stored.rows {
            for key in [all, otherOnly, revoked] { #expect(!row.cells.contains { $0.text?.contains(key) == true }) }
        }
        #expect(stored.rows.allSatisfy { $0["h"].string?.count == 64 })
        for key in [all, otherOnly, revoked] {
            #expect(!list.stdout.contains(key))
            #expect(!s.log.contains(key))
        }
        #expect(!s.log.contains("ann@example.com"))
        #expect(!s.log.contains("ANN@example.com"))
        #expect(s.log.contains("http.route=/v1/shops/{shop}/contacts"))
        #expect(s.log.contains("http.status=403"))
    }

    @Test("one order by #name, bare name, numeric id and GID; not found; keys")
    func order() async throws {
        let h = try ServeHarness()
        try await Fixture.load(into: h)
        let all = try await h.createKey("all")
        let otherOnly = try await h.createKey("other-only", shops: ["other"])
        let s = try h.start()
        for reference in ["%231002", "1002", "5002", "gid%3A%2F%2Fshopify%2FOrder%2F5002"] {
            let r = try await Web.get(s.base + "/v1/shops/desk/orders/\(reference)", key: all)
            #expect(r.status == 200, "\(reference): \(r.body)")
            #expect(r.json?["id"] as? Int == 5002 && r.json?["name"] as? String == "#1002", "\(reference)")
            #expect((r.json?["line_items"] as? [[String: Any]])?.first?["sku"] as? String == "SHO-2")
            let shipment = (r.json?["fulfillments"] as? [[String: Any]])?.first
            #expect(
                shipment?["display_status"] as? String == "IN_TRANSIT" && shipment?["tracking_number"] as? String == "JD014600006281230704")
        }
        let refunded = try await Web.get(s.base + "/v1/shops/desk/orders/%231003", key: all)
        let refund = (refunded.json?["refunds"] as? [[String: Any]])?.first
        #expect(refund?["amount"] as? String == "14.00" && refund?["currency"] as? String == "EUR" && refund?["id"] as? Int == 401)
        // The same name in another shop is that shop's order.
        let bobs = try await Web.get(s.base + "/v1/shops/other/orders/1001", key: otherOnly)
        #expect(bobs.status == 200 && bobs.json?["id"] as? Int == 6001)
        let missing = try await Web.get(s.base + "/v1/shops/desk/orders/%239999", key: all)
        #expect(missing.status == 404 && missing.errorCode == "not_found")
        let bad = try await Web.get(s.base + "/v1/shops/desk/orders/not-an-order", key: all)
        #expect(bad.status == 400)
        #expect(try await Web.get(s.base + "/v1/shops/desk/orders/1002").status == 401)
        #expect(try await Web.get(s.base + "/v1/shops/desk/orders/1002", key: "sbk_wrong").status == 401)
        #expect(try await Web.get(s.base + "/v1/shops/desk/orders/1002", key: otherOnly).status == 403)
    }

    @Test("shops: last import and freshness, filtered by the key's shops; healthz needs no key; unknown routes are JSON 404s")
    func shopsAndHealth() async throws {
        let h = try ServeHarness()
        try await Fixture.load(into: h)
        let all = try await h.createKey("all")
        let otherOnly = try await h.createKey("other-only", shops: ["other"])
        let s = try h.start(["--stale-after", "3600"])
        let r = try await Web.get(s.base + "/v1/shops", key: all)
        #expect(r.status == 200)
        let shops = try #require(r.json?["shops"] as? [[String: Any]])
        #expect(shops.map { $0["name"] as? String } == ["desk", "empty", "other"])
        let desk = try #require(shops.first)
        #expect(desk["freshness"] as? String == "fresh")
        #expect(desk["last_import_kind"] as? String == "load")
        let expected = try h.db.connect().query(
            """
            SELECT to_char(max(coalesce(r.loaded_at, r.completed_at, r.updated_at)) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS at
            FROM sync_runs r JOIN shops s ON s.id = r.shop_id WHERE s.name = 'desk' AND r.parent_run_id IS NULL AND r.status IN ('loaded', 'partial', 'empty')
            """
        ).first?["at"].string
        #expect(desk["last_import_at"] as? String == expected)
        #expect(shops[1]["freshness"] as? String == "never" && shops[1]["last_import_at"] == nil)
        let limited = try await Web.get(s.base + "/v1/shops", key: otherOnly)
        #expect((limited.json?["shops"] as? [[String: Any]])?.map { $0["name"] as? String } == ["other"])
        #expect(try await Web.get(s.base + "/v1/shops").status == 401)

        let health = try await Web.get(s.base + "/healthz")
        #expect(health.status == 200 && health.json?["status"] as? String == "ok" && health.json?["migrations"] as? String == "current")
        let nowhere = try await Web.get(s.base + "/v2/anything", key: all)
        #expect(nowhere.status == 404 && nowhere.errorCode == "no_route")
    }

    @Test("panel: escaped hostile names, CSP with the operator's frame ancestors, signed links (valid, tampered, expired), friendly pages")
    func panel() async throws {
        let h = try ServeHarness()
        try await Fixture.load(into: h)
        let all = try await h.createKey("all")
        let otherOnly = try await h.createKey("other-only", shops: ["other"])
        let s = try h.start(["--frame-ancestors", "https://desk.example.com", "--frame-ancestors", "https://*.halo.example"])

        let page = try await Web.get(s.base + "/panel?shop=desk&email=ann@example.com", key: all)
        #expect(page.status == 200)
        #expect(page.headers.header("content-type") == "text/html; charset=utf-8")
        let csp = try #require(page.headers.header("content-security-policy"))
        #expect(csp.contains("frame-ancestors https://desk.example.com https://*.halo.example"))
        #expect(csp.contains("default-src 'none'") && !csp.contains("script-src"))
        #expect(page.headers.header("referrer-policy") == "no-referrer")
        // Hostile values arrive as text, never as markup.
        #expect(!page.body.contains(Fixture.hostileFirst))
        #expect(!page.body.contains("<img"))
        #expect(!page.body.lowercased().contains("<script"))
        #expect(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(page.body.contains("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"))
        #expect(page.body.contains("&lt;b&gt;bold&lt;/b&gt;"))
        #expect(page.body.contains("Calls &lt;i&gt;after&lt;/i&gt; 5 pm &amp; asks for &#39;Jo&#39;"))
        #expect(page.body.contains("#1003") && page.body.contains("Partially refunded"))
        // Shipments: http(s) tracking URLs become links (escaped), anything else stays text.
        #expect(
            page.body.contains(
                "<a href=\"https://www.ups.com/track?tracknum=1Z999AA10123456784\" target=\"_blank\" rel=\"noopener noreferrer\">"))
        #expect(page.body.contains("https://www.dhl.com/en/express/tracking.html?AWB=JD014600006281230704"))
        #expect(!page.body.contains("javascript:"))
        #expect(page.body.contains("Evil&quot;&gt;&lt;script&gt;alert(4)&lt;/script&gt;"))
        #expect(page.body.contains("<span>EV&lt;b&gt;1&lt;/b&gt;</span>"))
        #expect(page.body.contains("Delivered") && page.body.contains("In transit") && page.body.contains("expected 2025-05-14"))
        #expect(page.body.contains("14.00 EUR") && page.body.contains("2 pairs arrived torn &lt;u&gt;twice&lt;/u&gt;"))

        // A signed link: no key needed, bound to shop, e-mail and expiry.
        let link = try await Web.post(
            s.base + "/v1/panel-links", key: all, json: ["shop": "desk", "email": "ann@example.com", "ttl_seconds": 120])
        #expect(link.status == 201, "\(link.body)")
        let url = try #require(link.json?["url"] as? String)
        #expect(url.hasPrefix(s.base + "/panel?"))
        let viaLink = try await Web.get(url)
        #expect(viaLink.status == 200 && viaLink.body.contains("&lt;script&gt;alert(1)"))
        let tampered = try await Web.get(url.replacingOccurrences(of: "ann%40example.com", with: "bob%40example.com"))
        #expect(tampered.status == 403 && tampered.body.contains("Link not valid"))
        #expect(tampered.headers.header("content-security-policy") == csp)
        let otherShop = try await Web.get(url.replacingOccurrences(of: "shop=desk", with: "shop=other"))
        #expect(otherShop.status == 403)
        let longer = try await Web.get(url.replacingOccurrences(of: "expires=", with: "expires=9"))
        #expect(longer.status == 403)
        let token = try #require(URLComponents(string: url)?.queryItems?.first { $0.name == "token" }?.value)
        let flipped = String(token.dropLast()) + (token.hasSuffix("A") ? "B" : "A")
        #expect(try await Web.get(url.replacingOccurrences(of: token, with: flipped)).status == 403)
        // A link that expired (signed with the server's key, expiry in the past).
        let expiredPath = try h.signer().path(shop: "desk", email: "ann@example.com", expires: Int64(Date().timeIntervalSince1970) - 5)
        let expired = try await Web.get(s.base + expiredPath)
        #expect(expired.status == 403 && expired.body.contains("Link expired"))
        #expect(!s.log.contains(token))

        // Links only for the key's shops, for shops that exist, with a bounded life.
        #expect(try await Web.post(s.base + "/v1/panel-links", key: otherOnly, json: ["shop": "desk", "email": "a@b.c"]).status == 403)
        #expect(try await Web.post(s.base + "/v1/panel-links", key: all, json: ["shop": "nope", "email": "a@b.c"]).status == 404)
        #expect(
            try await Web.post(s.base + "/v1/panel-links", key: all, json: ["shop": "desk", "email": "a@b.c", "ttl_seconds": 999_999])
                .status == 400)
        #expect(try await Web.post(s.base + "/v1/panel-links", key: nil, json: ["shop": "desk", "email": "a@b.c"]).status == 401)

        let nobody = try await Web.get(s.base + "/panel?shop=desk&email=nobody@example.com", key: all)
        #expect(nobody.status == 404 && nobody.body.contains("No customer found"))
        let noAuth = try await Web.get(s.base + "/panel?shop=desk&email=ann@example.com")
        #expect(noAuth.status == 401 && noAuth.body.contains("<h1>Sign-in needed</h1>"))
        let limited = try await Web.get(s.base + "/panel?shop=desk&email=ann@example.com", key: otherOnly)
        #expect(limited.status == 403 && limited.body.contains("Not allowed"))
    }

    @Test("the panel's CSP forbids framing when no --frame-ancestors is given; --listen defaults to 127.0.0.1")
    func defaults() async throws {
        let h = try ServeHarness()
        try await h.addShop("desk")
        let key = try await h.createKey("k")
        let s = try h.start()
        let r = try await Web.get(s.base + "/panel?shop=desk&email=a@example.com", key: key)
        #expect(r.headers.header("content-security-policy")?.hasSuffix("frame-ancestors 'none'") == true)
        let help = try await h.cli(["serve", "--help"])
        #expect(help.stdout.contains("default: 127.0.0.1:8080"))
        let bad = try await h.cli(["serve", "--frame-ancestors", "https://x.example; script-src *"])
        #expect(bad.status == 2 && bad.stderr.contains("--frame-ancestors"))
    }
}
