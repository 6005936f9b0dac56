import Foundation
import Importer
import TestSupport
import Testing

/// The `--json` documents against docs/json-output.md: each command is run for real (the database,
/// the simulator) and its document must have exactly the keys the page lists for it.
@Suite(
    "--json: every document has exactly the keys docs/json-output.md lists", .serialized, .enabled(if: TestEnvironment.databaseTestsEnabled)
)
struct JSONOutputTests {
    /// Commands the page documents that this suite does not run: `demo` sets up its own cluster and
    /// simulator (DemoProcessTests runs it), `worker` runs until it is stopped (FleetCommandTests).
    static let notRunHere: Set<String> = ["shopbulk demo --json", "shopbulk worker --json"]

    /// Heading (`shopbulk shop add --json`) → the keys in the table under it.
    static func documented() throws -> [String: Set<String>] {
        let text = try String(contentsOfFile: TestEnvironment.packageRoot + "/docs/json-output.md", encoding: .utf8)
        var out: [String: Set<String>] = [:]
        var current: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("### `") {
                current = String(line.dropFirst(5).prefix { $0 != "`" })
                out[current!] = []
            } else if line.hasPrefix("## ") {
                current = nil
            } else if let command = current, line.hasPrefix("| `") {
                out[command]!.insert(String(line.dropFirst(3).prefix { $0 != "`" }))
            }
        }
        return out
    }

    /// The keys of the document: of the object, or of every element of an array (which must not be empty:
    /// an empty array would check nothing).
    static func keys(_ r: ShopbulkCLI.Result, _ command: String) throws -> Set<String> {
        #expect(r.status == 0 || command.contains("query check"), "\(command): \(r.stderr)")
        let json = try #require(r.json, "\(command) printed no JSON: \(r.stdout) \(r.stderr)")
        if let object = json as? [String: Any] { return Set(object.keys) }
        let array = try #require(json as? [[String: Any]], "\(command): neither an object nor an array of objects")
        try #require(!array.isEmpty, "\(command): an empty array, nothing to check")
        let sets = Set(array.map { Set($0.keys) })
        #expect(sets.count == 1, "\(command): the elements differ in their keys")
        return sets.first!
    }

    @Test("each command's document: the keys of the page, no more and no fewer; null for an absent value")
    func documentsMatchThePage() async throws {
        let documented = try Self.documented()
        #expect(documented.count >= 18, "the page lists \(documented.count) commands")
        for (command, keys) in documented { #expect(!keys.isEmpty, "\(command) lists no keys") }
        var checked: Set<String> = []
        func check(_ command: String, _ r: ShopbulkCLI.Result) throws {
            let expected = try #require(documented[command], "docs/json-output.md has no section for \(command)")
            let actual = try Self.keys(r, command)
            #expect(
                actual == expected,
                "\(command): extra \(actual.subtracting(expected).sorted()), missing \(expected.subtracting(actual).sorted())")
            checked.insert(command)
        }

        // A fresh database: migrate applies every file, then --status lists them.
        let fresh = ShopbulkCLI(db: try TestDatabase(), migrateFirst: false)
        let migrated = try await fresh.run(["migrate", "--json"])
        try check("shopbulk migrate --json", migrated)
        #expect(((migrated.json as? [String: Any])?["applied"] as? [String])?.isEmpty == false)
        try check("shopbulk migrate --status --json", try await fresh.run(["migrate", "--status", "--json"]))

        // The simulator with the real Admin API schema, so that `schema pull` can introspect it.
        let schema = try SharedAdminSchemas.path("2026-01")
        let h = try await EngineHarness.make(customers: 12, orders: 30) { $0.schemaPath = schema }
        defer { Task { await h.stop() } }
        let cli = ShopbulkCLI(db: h.db, environment: ["SB_JSON_TOKEN": "x"])
        let added = try await cli.run([
            "shop", "add", "desk", "--store", "desk.myshopify.com", "--token-env", "SB_JSON_TOKEN", "--no-verify", "--json",
        ])
        try check("shopbulk shop add --json", added)
        // An absent value is null, not a missing key.
        #expect((added.json as? [String: Any])?["client_id"] is NSNull)
        try check("shopbulk shop edit --json", try await cli.run(["shop", "edit", "desk", "--customers-as", "customer", "--json"]))
        try check("shopbulk shop list --json", try await cli.run(["shop", "list", "--json"]))
        try check("shopbulk shop enable --json", try await cli.run(["shop", "disable", "desk", "--json"]))
        try check("shopbulk shop enable --json", try await cli.run(["shop", "enable", "desk", "--json"]))
        try check("shopbulk shop remove --json", try await cli.run(["shop", "remove", "desk", "--yes", "--json"]))

        try check("shopbulk apikey create --json", try await cli.run(["apikey", "create", "desk-key", "--json"]))
        try check("shopbulk apikey list --json", try await cli.run(["apikey", "list", "--json"]))

        let queries = TestEnvironment.packageRoot + "/queries"
        let passed = try await cli.run(["query", "check", queries + "/customers.graphql", "--json"])
        #expect(passed.status == 0, "\(passed.stdout)")
        try check("shopbulk query check --json", passed)
        let broken = NSTemporaryDirectory() + "sb-json-\(UUID().uuidString).graphql"
        try "#! Customer -> customers\n{ customers { edges { node { id } } }\n".write(toFile: broken, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: broken) }
        let failed = try await cli.run(["query", "check", broken, "--json"])
        #expect(failed.status == 1)
        #expect((failed.json as? [String: Any])?["ok"] as? Bool == false)
        #expect((failed.json as? [String: Any])?["mapping"] is NSNull)
        try check("shopbulk query check --json", failed)

        // Against the simulated shop `sim` of the harness.
        let sim = ["--queries-dir", queries, "--poll-interval", "0.05", "--max-poll-interval", "0.2", "--log-level", "error"]
        let imported = try await cli.run(["import", "sim", "--full", "--json"] + sim)
        try check("shopbulk import --json", imported)
        #expect(((imported.json as? [[String: Any]])?.first?["rows_loaded"] as? Int ?? 0) > 0)
        try check("shopbulk schema pull --json", try await cli.run(["schema", "pull", "sim", "--json", "--log-level", "error"]))
        try check("shopbulk schema list --json", try await cli.run(["schema", "list", "--json"]))
        let file = NSTemporaryDirectory() + "sb-json-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try check("shopbulk run --json", try await cli.run(["run", "customers", "--shop", "sim", "--out", file, "--json"] + sim))
        try check(
            "shopbulk load --json",
            try await cli.run([
                "load", file, "--shop", "sim", "--query", "customers", "--json", "--queries-dir", queries, "--log-level", "error",
            ]))
        try check("shopbulk cancel --json", try await cli.run(["cancel", "sim", "--json", "--log-level", "error"]))

        #expect(
            checked.union(Self.notRunHere) == Set(documented.keys),
            "documented but not checked: \(Set(documented.keys).subtracting(checked).subtracting(Self.notRunHere).sorted())")
    }
}
