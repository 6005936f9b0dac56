import Foundation
import Importer
import Postgres
import ShopifyAdmin
import TestSupport
import Testing

@Suite("Security: smaller findings (demo, store names, printed URLs)")
struct SecurityMiscTests {
    @Test("the Kelvin sign is refused before any case mapping could turn it into k")
    func kelvinSign() async throws {
        #expect(throws: ShopifyError.self) { try ShopEndpoint.normalizeStoreName("halo\u{212A}") }
        do {
            _ = try ShopEndpoint.normalizeStoreName("halo\u{212A}")
        } catch {
            #expect(
                error.message
                    == "store name 'halo\u{212A}' contains '\u{212A}' (U+212A): only the letters a-z, digits and hyphens are allowed")
        }
        #expect(try ShopEndpoint.normalizeStoreName("HALO.MyShopify.com") == "halo")
        #expect(try ShopEndpoint.normalizeStoreName("HTTPS://Halo.myshopify.com/") == "halo")
        let r = try await SecurityCLI.run(["shop", "add", "x", "--store", "halo\u{212A}", "--token-env", "T", "--no-verify"])
        #expect(r.status == 2)
        #expect(r.stderr.hasPrefix("Error: --store: store name 'halo\u{212A}' contains '\u{212A}' (U+212A)"), "\(r.stderr)")
    }

    @Test("connection strings are printed without their password")
    func withoutPassword() {
        #expect(
            PostgresConnection.withoutPassword("postgresql://shop:s3cret@db.example:5432/shopbulk?password=other&sslmode=require")
                == "postgresql://shop@db.example:5432/shopbulk?sslmode=require")
        #expect(PostgresConnection.withoutPassword("postgres://u@h/d") == "postgres://u@h/d")
        let kv = PostgresConnection.withoutPassword("host=db.example password=s3cret dbname=shopbulk")
        #expect(!kv.contains("s3cret"))
        #expect(kv.contains("host='db.example'") && kv.contains("dbname='shopbulk'"))
    }
}

@Suite("Security: the demo on a database it did not create", .serialized, .enabled(if: TestEnvironment.databaseTestsEnabled))
struct DemoSafetyTests {
    @Test("without --yes the demo refuses a DATABASE_URL it did not create and leaves its shop named demo alone")
    func refusesForeignDatabase() async throws {
        let db = try TestDatabase()
        try SecurityCLI.migrate(db)
        _ = try ShopStore(connection: db.connect()).add(
            Shop(name: "demo", storeDomain: "real-shop.myshopify.com", authMethod: .token, tokenRef: "env:REAL_TOKEN"))
        let url = db.url.replacingOccurrences(of: "postgresql://shopbulk@", with: "postgresql://shopbulk:pw-7c1d@")
        let r = try await SecurityCLI.run(["demo", "--customers", "5", "--orders", "5"], environment: ["DATABASE_URL": url])
        #expect(r.status == 1)
        #expect(
            r.stderr
                == "Error [confirmation-required]: the demo did not create the database \(db.url) (from DATABASE_URL): it would replace any shop named \"demo\" there, with all its imported data, and import simulated data. Run it with --yes to allow that, or without --database-url / DATABASE_URL to use a fresh database of its own in the embedded cluster.\n"
        )
        #expect(!r.stderr.contains("pw-7c1d"))
        #expect(try ShopStore(connection: db.connect()).find("demo")?.storeDomain == "real-shop.myshopify.com")
    }

    @Test("with --yes the demo runs and never prints the password", .timeLimit(.minutes(3)))
    func demoHidesPassword() async throws {
        let db = try TestDatabase()
        let url = db.url.replacingOccurrences(of: "postgresql://shopbulk@", with: "postgresql://shopbulk:pw-9e2b@")
        let r = try await SecurityCLI.run(["demo", "--customers", "20", "--orders", "40", "--yes", "--database-url", url])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Summary"))
        #expect(!r.stdout.contains("pw-9e2b") && !r.stderr.contains("pw-9e2b"))
        #expect(r.stdout.contains("Try: psql \"\(db.url)\" -c 'SELECT * FROM contacts LIMIT 5' (password left out: psql asks for it)"))
    }
}
