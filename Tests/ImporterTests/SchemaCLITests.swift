import Foundation
import Importer
import Postgres
import TestSupport
import Testing

@Suite("shopbulk query check --schema / --shop and shop edit --query (the CLI)", .enabled(if: TestEnvironment.databaseTestsEnabled))
struct SchemaCLITests {
    static let threeMistakes = """
        #! Customer -> customers
        #!   lastName -> last_name
        {
          customers(query: "{{window}}", sortKey: UPDATED) {
            edges {
              node {
                id
                lastName
                firstNme
                defaultEmailAddress { emailAdress }
              }
            }
          }
        }

        """

    func write(_ text: String, name: String) throws -> String {
        let path = NSTemporaryDirectory() + "sb-\(UUID().uuidString)-\(name).graphql"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("query check --schema: a file with three mistakes gets all three, with line, column and did-you-mean; exit 1")
    func threeMistakes() async throws {
        let cli = ShopbulkCLI(db: try TestDatabase())
        let path = try write(Self.threeMistakes, name: "three")
        let r = try await cli.run(["query", "check", path, "--schema", try SharedAdminSchemas.path("2026-01")])
        #expect(r.status == 1)
        let errors = r.stdout.split(separator: "\n").filter { $0.contains(": error: ") }
        #expect(errors.count == 3)
        #expect(
            r.stdout.contains(
                "\(path):4:43: error: Value \"UPDATED\" does not exist in \"CustomerSortKeys\" enum. Did you mean the enum value \"UPDATED_AT\"?"
            ))
        #expect(r.stdout.contains("\(path):9:9: error: Cannot query field \"firstNme\" on type \"Customer\". Did you mean \"firstName\""))
        #expect(
            r.stdout.contains(
                "\(path):10:31: error: Cannot query field \"emailAdress\" on type \"CustomerEmailAddress\". Did you mean \"emailAddress\"?")
        )
    }

    @Test("query check --shop: without a cached schema it says so, and still applies the shop's API version")
    func shopWithoutSchema() async throws {
        let db = try TestDatabase()
        let cli = ShopbulkCLI(db: db, environment: ["SB_T": "x"])
        let add = try await cli.run([
            "shop", "add", "old", "--store", "old.myshopify.com", "--token-env", "SB_T", "--api-version", "2025-01", "--no-verify",
        ])
        #expect(add.status == 0, "\(add.stderr)")
        let r = try await cli.run(["query", "check", TestEnvironment.packageRoot + "/queries/customers.graphql", "--shop", "old"])
        #expect(r.status == 1)
        #expect(r.stdout.contains("no Admin API 2025-01 schema is cached"))
        #expect(r.stdout.contains("error: Customer.defaultEmailAddress exists from API 2025-04; this query runs on API 2025-01"))
        let fine = try await cli.run([
            "query", "check", "orders", "--shop", "old", "--queries-dir", TestEnvironment.packageRoot + "/queries",
        ])
        #expect(fine.status == 0, "\(fine.stdout)")
        #expect(fine.stdout.contains("passes the bulk rules on API 2025-01"))
    }

    @Test("shop edit --query: a file that fails its checks is refused and nothing is stored; a good one is stored")
    func shopEditQuery() async throws {
        let db = try TestDatabase()
        let cli = ShopbulkCLI(db: db, environment: ["SB_T": "x"])
        #expect(
            try await cli.run(["shop", "add", "halo", "--store", "halo.myshopify.com", "--token-env", "SB_T", "--no-verify"]).status == 0)
        // A mapped column without a migration.
        let bad = try write(
            "#! Customer -> customers\n#!   tier.value -> loyalty_level\n{ customers { edges { node { id tier: metafield(namespace: \"custom\", key: \"loyalty_tier\") { value } } } } }\n",
            name: "bad")
        let refused = try await cli.run(["shop", "edit", "halo", "--query", "customers=\(bad)", "--customers-as", "customer"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("loyalty_level, which does not exist (add a migration"))
        let connection = try db.connect()
        #expect(try connection.query("SELECT count(*) AS n FROM shop_query_files").first?["n"].int == 0)
        // The settings change in the same command did not happen either.
        #expect(try connection.query("SELECT customers_as FROM shops WHERE name = 'halo'").first?["customers_as"].string == "contact")
        let good = try await cli.run([
            "shop", "edit", "halo", "--query", "customers=\(TestEnvironment.packageRoot)/queries/examples/halo/customers.graphql",
        ])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout.contains("customers query: \(TestEnvironment.packageRoot)/queries/examples/halo/customers.graphql (checked)"))
        #expect(try connection.query("SELECT resource FROM shop_query_files").first?["resource"].string == "customers")
        let listed = try await cli.run(["shop", "list", "--json"])
        let shops = try #require(listed.json as? [[String: Any]])
        #expect((shops.first?["query_files"] as? [String: String])?["customers"]?.hasSuffix("examples/halo/customers.graphql") == true)
        let reset = try await cli.run(["shop", "edit", "halo", "--query", "customers="])
        #expect(reset.status == 0)
        #expect(try connection.query("SELECT count(*) AS n FROM shop_query_files").first?["n"].int == 0)
    }
}
