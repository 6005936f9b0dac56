import Foundation
import Importer
import Postgres
import ServiceDesk
import TestSupport
import Testing

@Suite("Per-shop contact field map: the contacts / customer_accounts views and lookup", .enabled(if: TestEnvironment.databaseTestsEnabled))
struct ContactFieldMapTests {
    @Test("defaults as before; a shop's own sources for name, phone, company and e-mail, and custom fields")
    func mappedFields() throws {
        let h = try LoaderHarness()
        try LookupData.load(into: h)
        let desk = ServiceDeskQueries(connection: h.connection)
        let before = try #require(try desk.lookup(shop: h.shop, email: "ann.example@example.com").people.first)
        #expect(before.name == "Ann Example")
        #expect(before.phone == "+417900001")
        #expect(before.company == "Example AG")
        #expect(before.customFields.isEmpty)

        let map = ContactFieldMap(connection: h.connection)
        try map.set("name", source: "first_name", shop: h.shop)
        try map.set("phone", source: "default_address.zip", shop: h.shop)  // any path into a column
        try map.set("company", source: "note", shop: h.shop)
        try map.set("custom.locale", source: "locale", shop: h.shop)
        let after = try #require(try desk.lookup(shop: h.shop, email: "ann.example@example.com").people.first)
        #expect(after.name == "Ann")
        #expect(after.phone == "8001")
        #expect(after.company == "prefers e-mail")
        #expect(after.customFields == ["locale": "de"])
        // The view says the same as the lookup.
        #expect(try h.connection.query("SELECT full_name FROM contacts WHERE contact_id = 7001").first?["full_name"].string == "Ann")

        // The e-mail itself can come from elsewhere: the lookup then finds the person by it.
        try map.set("email", source: "note", shop: h.shop)
        #expect(try desk.lookup(shop: h.shop, email: "prefers e-mail").people.map(\.id).sorted() == [7001, 7002])
        // Back to the defaults.
        for field in ["name", "phone", "company", "email", "custom.locale"] { try map.set(field, source: "", shop: h.shop) }
        let reset = try #require(try desk.lookup(shop: h.shop, email: "ann.example@example.com").people.first)
        #expect(reset == before)
    }

    @Test("a field or source that does not exist is refused, naming it")
    func refused() throws {
        let h = try LoaderHarness()
        let map = ContactFieldMap(connection: h.connection)
        #expect(throws: ShopError.self) { try map.set("nickname", source: "first_name", shop: h.shop) }
        let error = #expect(throws: ShopError.self) { try map.set("custom.tier", source: "loyalty_level", shop: h.shop) }
        #expect(error?.message.contains("customers has no column loyalty_level") == true)
        #expect(throws: ShopError.self) { try map.set("phone", source: "extra..x", shop: h.shop) }
        #expect(try map.all(shop: h.shop).isEmpty)
    }
}
