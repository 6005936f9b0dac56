import Dispatch
import Foundation
import Importer
import Migrations
import Postgres
import ShopifySimulator
import TestSupport
import Testing

/// Runs the built `shopbulk` against a test database, off the cooperative thread pool (the in-process
/// simulator needs those threads to answer the child process).
struct ShopbulkCLI {
    let db: TestDatabase
    var environment: [String: String] = [:]
    /// Whether `run` migrates the database first.
    var migrateFirst = true

    init(db: TestDatabase, environment: [String: String] = [:], migrateFirst: Bool = true) {
        self.db = db
        self.environment = environment
        self.migrateFirst = migrateFirst
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(stdout.utf8)) }
    }

    /// `shopbulk ARGS --database-url … --migrations-dir …`, on the database migrated first (only
    /// `migrate`, `import`, `run`, `load` and `demo` apply migrations themselves).
    func run(_ arguments: [String]) async throws -> Result {
        if migrateFirst { try Migrator(directory: TestEnvironment.packageRoot + "/migrations").apply(on: db.connect()) }
        var env = ProcessInfo.processInfo.environment
        env["SHOPBULK_LOG_LEVEL"] = "warning"
        env.removeValue(forKey: "DATABASE_URL")
        for (k, v) in environment { env[k] = v }
        let args = arguments + ["--database-url", db.url, "--migrations-dir", TestEnvironment.packageRoot + "/migrations"]
        let binary = TestEnvironment.shopbulkBinary
        let finalEnv = env
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                do {
                    let r = try runProcess(binary, args, environment: finalEnv)
                    continuation.resume(returning: Result(status: r.status, stdout: r.stdout, stderr: r.stderr))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}

@Suite("shopbulk shop: add, edit, list, enable, disable, remove", .serialized, .enabled(if: TestEnvironment.databaseTestsEnabled))
struct ShopCommandTests {
    static let token = "shpat_cli_test_secret_7f3a9c1e5b"
    static let clientSecret = "shpss_cli_test_client_secret_42d8e0"

    /// Everything stored about shops, as text.
    static func shopsTable(_ db: TestDatabase) throws -> String {
        try db.connect().query("SELECT coalesce(string_agg(to_jsonb(s)::text, E'\\n'), '') AS t FROM shops s").first?["t"].string ?? ""
    }

    static func expectNoSecret(_ results: [ShopbulkCLI.Result], _ db: TestDatabase, sourceLocation: SourceLocation = #_sourceLocation)
        throws
    {
        let table = try shopsTable(db)
        for secret in [token, clientSecret] {
            #expect(!table.contains(secret), "secret in shops", sourceLocation: sourceLocation)
            for r in results {
                #expect(!r.stdout.contains(secret), "secret on stdout", sourceLocation: sourceLocation)
                #expect(!r.stderr.contains(secret), "secret on stderr", sourceLocation: sourceLocation)
            }
        }
    }

    @Test("add --no-verify, list, edit, enable, disable, remove --yes")
    func lifecycleWithoutVerification() async throws {
        let db = try TestDatabase()
        let cli = ShopbulkCLI(db: db)

        let add = try await cli.run(["shop", "add", "halo", "--store", "Halo.myshopify.com", "--token-env", "HALO_TOKEN", "--no-verify"])
        #expect(add.status == 0, "\(add.stderr)")
        #expect(add.stdout.contains("Added shop 'halo': halo.myshopify.com, token env:HALO_TOKEN"))

        let again = try await cli.run(["shop", "add", "halo", "--store", "other", "--token-env", "X", "--no-verify"])
        #expect(again.status == 1)
        #expect(again.stderr.contains("already exists"))

        let list = try await cli.run(["shop", "list"])
        #expect(list.status == 0)
        #expect(list.stdout.contains("NAME"))
        #expect(list.stdout.contains("halo  halo.myshopify.com  token env:HALO_TOKEN  yes"))

        let edit = try await cli.run(["shop", "edit", "halo", "--customers-as", "customer", "--no-line-items", "--api-version", "2025-10"])
        #expect(edit.status == 0, "\(edit.stderr)")
        #expect(edit.stdout.contains("customers as: contact → customer"))
        #expect(edit.stdout.contains("line items: on → off"))
        #expect(edit.stdout.contains("api version: 2026-01 → 2025-10"))

        let same = try await cli.run(["shop", "edit", "halo", "--customers-as", "customer"])
        #expect(same.stdout.contains("nothing changed"))

        let disable = try await cli.run(["shop", "disable", "halo"])
        #expect(disable.status == 0 && disable.stdout.contains("now disabled"))
        let disableAgain = try await cli.run(["shop", "disable", "halo"])
        #expect(disableAgain.stdout.contains("already disabled"))

        let json = try await cli.run(["shop", "list", "--json"])
        let shops = try #require(json.json as? [[String: Any]])
        #expect(shops.count == 1)
        #expect(shops[0]["name"] as? String == "halo")
        #expect(shops[0]["enabled"] as? Bool == false)
        #expect(shops[0]["import_line_items"] as? Bool == false)
        #expect(shops[0]["customers_as"] as? String == "customer")
        #expect(shops[0]["api_version"] as? String == "2025-10")
        #expect(shops[0]["token_ref"] as? String == "env:HALO_TOKEN")

        let enable = try await cli.run(["shop", "enable", "halo"])
        #expect(enable.status == 0 && enable.stdout.contains("now enabled"))

        let removeUnconfirmed = try await cli.run(["shop", "remove", "halo"])
        #expect(removeUnconfirmed.status == 1)
        #expect(removeUnconfirmed.stderr.contains("--yes"))
        #expect(removeUnconfirmed.stderr.contains("ON DELETE CASCADE"))
        #expect(try Self.shopsTable(db).contains("\"halo\""))

        let remove = try await cli.run(["shop", "remove", "halo", "--yes"])
        #expect(remove.status == 0, "\(remove.stderr)")
        #expect(remove.stdout.contains("Removed shop 'halo'"))
        #expect(try Self.shopsTable(db) == "")

        let missing = try await cli.run(["shop", "enable", "halo"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no shop named 'halo'"))
    }

    @Test("usage errors exit 2 before touching the database")
    func usageErrors() async throws {
        let db = try TestDatabase()
        let cli = ShopbulkCLI(db: db, migrateFirst: false)
        let cases: [([String], String)] = [
            (["shop", "add", "x", "--store", "halo.example.com", "--token-env", "T"], "--store"),
            (["shop", "add", "x", "--store", "halo", "--token-env", "T", "--api-base", "http://example.com"], "--api-base"),
            (["shop", "add", "x", "--store", "halo", "--token-env", "T", "--api-version", "2026-13"], "--api-version"),
            (["shop", "add", "x", "--store", "halo"], "no credentials"),
            (["shop", "add", "x", "--store", "halo", "--token-env", "T", "--token-file", "/f"], "not both"),
            (["shop", "add", "x", "--store", "halo", "--client-id", "cid"], "--client-secret"),
            (["shop", "add", "x", "--store", "halo", "--token-env", "T", "--client-id", "c", "--client-secret-env", "S"], "not both"),
            (["shop", "add", "x", "--store", "halo", "--token-env", "T", "--customers-as", "people"], "customers-as"),
            (["shop", "add", "bad name", "--store", "halo", "--token-env", "T"], "shop name"),
            (["shop", "edit", "x"], "nothing to change"),
            (["shop", "add", "x", "--store", "halo", "--token", "shpat_abc"], "--token"),
        ]
        for (args, expected) in cases {
            let r = try await cli.run(args)
            #expect(r.status == 2, "\(args): \(r.stderr)")
            #expect(r.stderr.contains(expected), "\(args): \(r.stderr)")
        }
        #expect(try db.connect().query("SELECT count(*) AS n FROM pg_tables WHERE tablename = 'shops'").first?["n"].int == 0)
    }

    @Test("add verifies a legacy-token app against the simulator; the token never shows")
    func verifiedLegacyToken() async throws {
        let sim = try await ShopifySimulator.start(SimulatorConfig(seed: 1, customers: 5, orders: 5, apps: [.legacy(token: Self.token)]))
        let db = try TestDatabase()
        let cli = ShopbulkCLI(db: db, environment: ["SIM_TOKEN": Self.token])
        let add = try await cli.run([
            "shop", "add", "sim", "--store", "sim-shop", "--token-env", "SIM_TOKEN", "--api-base", sim.baseURL, "--log-level", "debug",
        ])
        #expect(add.status == 0, "\(add.stderr)")
        #expect(add.stdout.contains("Connection verified"))
        #expect(add.stdout.contains("read_customers, read_orders"))
        // No read_all_orders: a warning, not an error.
        #expect(add.stderr.contains("read_all_orders"))
        let stored = try #require(try ShopStore(connection: db.connect()).find("sim"))
        #expect(stored.tokenRef == "env:SIM_TOKEN")
        #expect(stored.apiBase == sim.baseURL)
        #expect(sim.recordedRequests.contains { $0.path.hasSuffix("/graphql.json") })

        // A token variable that is not set: nothing saved, the reference is named.
        let unset = try await ShopbulkCLI(db: db).run([
            "shop", "add", "sim2", "--store", "sim-two", "--token-env", "SHOPBULK_TEST_UNSET_VAR", "--api-base", sim.baseURL,
        ])
        #expect(unset.status == 1)
        #expect(unset.stderr.contains("SHOPBULK_TEST_UNSET_VAR"))
        #expect(unset.stderr.contains("Nothing was saved"))

        // A wrong token: 401, nothing saved.
        let wrong = try await ShopbulkCLI(db: db, environment: ["SIM_TOKEN": "shpat_wrong"]).run([
            "shop", "add", "sim3", "--store", "sim-three", "--token-env", "SIM_TOKEN", "--api-base", sim.baseURL,
        ])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("Nothing was saved"))
        #expect(try ShopStore(connection: db.connect()).all().map(\.name) == ["sim"])

        // Editing the credentials re-verifies; a bad one leaves the shop as it was.
        let badEdit = try await ShopbulkCLI(db: db, environment: ["OTHER": "shpat_wrong"]).run([
            "shop", "edit", "sim", "--token-env", "OTHER",
        ])
        #expect(badEdit.status == 1)
        #expect(badEdit.stderr.contains("Nothing was changed"))
        #expect(try ShopStore(connection: db.connect()).find("sim")?.tokenRef == "env:SIM_TOKEN")
        let goodEdit = try await ShopbulkCLI(db: db, environment: ["OTHER": Self.token]).run([
            "shop", "edit", "sim", "--token-env", "OTHER",
        ])
        #expect(goodEdit.status == 0, "\(goodEdit.stderr)")
        #expect(goodEdit.stdout.contains("Connection verified"))
        #expect(try ShopStore(connection: db.connect()).find("sim")?.tokenRef == "env:OTHER")

        try Self.expectNoSecret([add, unset, wrong, badEdit, goodEdit], db)
        await sim.stop()
    }

    @Test("an app without read_orders is refused, naming the scope; nothing is saved")
    func missingScope() async throws {
        let sim = try await ShopifySimulator.start(
            SimulatorConfig(seed: 1, customers: 5, orders: 5, apps: [.legacy(token: Self.token, scopes: ["read_customers"])]))
        let db = try TestDatabase()
        let cli = ShopbulkCLI(db: db, environment: ["SIM_TOKEN": Self.token])
        let add = try await cli.run(["shop", "add", "sim", "--store", "sim-shop", "--token-env", "SIM_TOKEN", "--api-base", sim.baseURL])
        #expect(add.status == 1)
        #expect(add.stderr.contains("read_orders"))
        #expect(add.stderr.contains("Nothing was saved"))
        #expect(try ShopStore(connection: db.connect()).all().isEmpty)
        try Self.expectNoSecret([add], db)

        // --no-verify saves it anyway.
        let unverified = try await cli.run([
            "shop", "add", "sim", "--store", "sim-shop", "--token-env", "SIM_TOKEN", "--api-base", sim.baseURL, "--no-verify", "--json",
        ])
        #expect(unverified.status == 0, "\(unverified.stderr)")
        let object = try #require(unverified.json as? [String: Any])
        #expect(object["verified"] as? Bool == false)
        await sim.stop()
    }

    @Test("add verifies a Dev Dashboard app (client credentials, secret in a file); the secret never shows")
    func verifiedClientCredentials() async throws {
        let sim = try await ShopifySimulator.start(
            SimulatorConfig(
                seed: 1, customers: 5, orders: 5,
                apps: [
                    .devDashboard(
                        clientId: "cli-client-id", clientSecret: Self.clientSecret,
                        scopes: ["read_customers", "read_orders", "read_all_orders"])
                ]))
        let db = try TestDatabase()
        let dir = NSTemporaryDirectory() + "shopbulk-secret-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/client-secret"
        try (Self.clientSecret + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        // Secret files must be private (see SecuritySecretsTests).
        #expect(chmod(file, 0o600) == 0)

        let cli = ShopbulkCLI(db: db)
        let add = try await cli.run([
            "shop", "add", "dev", "--store", "sim-shop", "--client-id", "cli-client-id", "--client-secret-file", file,
            "--api-base", sim.baseURL, "--customers-as", "customer", "--json",
        ])
        #expect(add.status == 0, "\(add.stderr)")
        let object = try #require(add.json as? [String: Any])
        #expect(object["verified"] as? Bool == true)
        #expect(object["auth_method"] as? String == "client-credentials")
        #expect(object["client_secret_ref"] as? String == "file:" + file)
        #expect((object["warnings"] as? [String])?.isEmpty == true)
        #expect(!add.stderr.contains("read_all_orders"))
        #expect(sim.recordedRequests.contains { $0.path.hasSuffix("/admin/oauth/access_token") })

        // A wrong secret: the grant is refused, nothing saved.
        let wrongFile = dir + "/wrong"
        try "shpss_wrong".write(toFile: wrongFile, atomically: true, encoding: .utf8)
        let wrong = try await cli.run([
            "shop", "add", "dev2", "--store", "sim-two", "--client-id", "cli-client-id", "--client-secret-file", wrongFile,
            "--api-base", sim.baseURL,
        ])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("Nothing was saved"))

        let list = try await cli.run(["shop", "list"])
        #expect(list.stdout.contains("client-credentials cli-client-id file:\(file)"))
        try Self.expectNoSecret([add, wrong, list], db)
        await sim.stop()
    }
}
