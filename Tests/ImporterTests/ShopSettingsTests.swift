import Foundation
import Importer
import Testing

@Suite("Shop settings: validation and application, without I/O")
struct ShopSettingsTests {
    @Test("a new shop: store normalised, defaults, references kept as given")
    func newShopDefaults() throws {
        let s = ShopSettings(store: "Halo.myshopify.com", tokenRef: try ShopSettings.environmentReference("HALO_TOKEN"))
        let shop = try s.makeShop(name: "halo")
        #expect(shop.storeDomain == "halo.myshopify.com")
        #expect(shop.authMethod == .token)
        #expect(shop.tokenRef == "env:HALO_TOKEN")
        #expect(shop.importLineItems && shop.enabled)
        #expect(shop.customersAs == .contact)
        #expect(shop.apiVersion == "2026-01")
        #expect(shop.apiBase == nil)
        #expect(shop.authSummary == "token env:HALO_TOKEN")
    }

    @Test("client credentials, file references made absolute, every setting applied")
    func clientCredentials() throws {
        let ref = try ShopSettings.fileReference("secrets/halo", currentDirectory: "/etc/shopbulk")
        #expect(ref == "file:/etc/shopbulk/secrets/halo")
        let s = ShopSettings(
            store: "halo", clientID: "cid", clientSecretRef: ref, importLineItems: false, customersAs: .customer, apiVersion: "2025-10",
            apiBase: .set("http://127.0.0.1:8080/"), enabled: false)
        let shop = try s.makeShop(name: "halo-eu")
        #expect(shop.authMethod == .clientCredentials)
        #expect(shop.clientID == "cid" && shop.clientSecretRef == ref && shop.tokenRef == nil)
        #expect(!shop.importLineItems && !shop.enabled)
        #expect(shop.customersAs == .customer)
        #expect(shop.apiVersion == "2025-10")
        #expect(shop.apiBase == "http://127.0.0.1:8080")
    }

    @Test("bad values are rejected with the option's name and no echoed secret")
    func rejections() throws {
        func message(_ s: ShopSettings, name: String = "x") -> String? {
            do {
                _ = try s.makeShop(name: name)
                return nil
            } catch { return error.message }
        }
        let token = "env:T"
        #expect(message(ShopSettings(store: "halo.example.com", tokenRef: token))?.contains("--store") == true)
        #expect(message(ShopSettings(store: "halo", tokenRef: token, apiVersion: "2026-02"))?.contains("--api-version") == true)
        #expect(message(ShopSettings(store: "halo", tokenRef: token, apiBase: .set("http://example.com")))?.contains("--api-base") == true)
        #expect(message(ShopSettings(store: "halo"))?.contains("no credentials") == true)
        #expect(message(ShopSettings(tokenRef: token))?.contains("--store is required") == true)
        #expect(message(ShopSettings(store: "halo", clientID: "cid"))?.contains("--client-secret") == true)
        #expect(message(ShopSettings(store: "halo", clientSecretRef: "env:S"))?.contains("--client-id") == true)
        #expect(
            message(ShopSettings(store: "halo", tokenRef: token, clientID: "cid", clientSecretRef: "env:S"))?.contains("not both") == true)
        #expect(message(ShopSettings(store: "halo", tokenRef: token), name: "-bad")?.contains("shop name") == true)
        #expect(message(ShopSettings(store: "halo", tokenRef: token), name: "a b")?.contains("shop name") == true)
        // A pasted secret instead of a reference is not echoed.
        let pasted = message(ShopSettings(store: "halo", tokenRef: "shpat_0123456789abcdef"))
        #expect(pasted != nil)
        #expect(pasted?.contains("shpat_0123456789abcdef") == false)
        #expect(throws: ShopSettingsError.self) { try ShopSettings.environmentReference("1BAD") }
        #expect(throws: ShopSettingsError.self) { try ShopSettings.environmentReference("HAS-DASH") }
    }

    @Test("edit: only given fields change; switching auth methods clears the other method")
    func editing() throws {
        let original = try ShopSettings(store: "halo", tokenRef: "env:T").makeShop(name: "halo")
        let same = try ShopSettings(customersAs: .customer).applied(to: original)
        #expect(same.customersAs == .customer)
        #expect(same.tokenRef == "env:T" && same.storeDomain == original.storeDomain && same.importLineItems)
        #expect(!ShopSettings(customersAs: .customer).changesConnection)
        #expect(ShopSettings(apiBase: .clear).changesConnection)

        // Token → client credentials needs both parts.
        #expect(throws: ShopSettingsError.self) { try ShopSettings(clientSecretRef: "env:S").applied(to: original) }
        let switched = try ShopSettings(clientID: "cid", clientSecretRef: "env:S").applied(to: original)
        #expect(switched.authMethod == .clientCredentials && switched.tokenRef == nil)
        // Within client credentials, one part may change alone.
        let rotated = try ShopSettings(clientSecretRef: "file:/run/secret").applied(to: switched)
        #expect(rotated.clientID == "cid" && rotated.clientSecretRef == "file:/run/secret")
        let back = try ShopSettings(tokenRef: "env:T2").applied(to: rotated)
        #expect(back.authMethod == .token && back.clientID == nil && back.clientSecretRef == nil && back.tokenRef == "env:T2")

        var based = try ShopSettings(apiBase: .set("https://proxy.example.com/")).applied(to: original)
        #expect(based.apiBase == "https://proxy.example.com")
        based = try ShopSettings(apiBase: .clear).applied(to: based)
        #expect(based.apiBase == nil)
    }

    @Test("text tables and human formats")
    func formatting() {
        var t = TextTable(["A", "NUMBER"], rightAligned: [1])
        t.append(["x\ny", "5"])
        t.append([nil, "12345"])
        // Control characters are escaped visibly, not blanked (see SecurityTerminalTests).
        #expect(t.render() == "A     NUMBER\nx\\ny       5\n-      12345\n")
        #expect(HumanFormat.age(seconds: 59) == "59s")
        #expect(HumanFormat.age(seconds: 600) == "10m")
        #expect(HumanFormat.age(seconds: 3 * 86400) == "3d")
        #expect(HumanFormat.bytes(999) == "999 B")
        #expect(HumanFormat.bytes(1_500) == "1.5 KB")
        #expect(HumanFormat.bytes(20_340_000) == "20.3 MB")
    }
}
