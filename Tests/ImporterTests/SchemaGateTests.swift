import BulkQueries
import Foundation
import Importer
import Logging
import Postgres
import ShopifyAdmin
import ShopifySimulator
import TestSupport
import Testing

@Suite("Schema pull and the schema gate: simulator and real database", .enabled(if: TestEnvironment.databaseTestsEnabled))
struct SchemaGateTests {
    static var logger: Logger {
        var l = Logger(label: "test")
        l.logLevel = .warning
        return l
    }

    @Test("a 2025-01 shop gets the defaultEmailAddress version error before any request")
    func versionErrorBeforeAnyRequest() async throws {
        let h = try await EngineHarness.make(customers: 5, orders: 5)
        defer { Task { await h.stop() } }
        var shop = h.shop
        shop.apiVersion = "2025-01"
        try ShopStore(connection: h.connection).update(shop)
        h.sim.clearRecordedRequests()
        let error = await #expect(throws: QueryFileError.self) { try await h.full() }
        let violations = error?.violations ?? []
        #expect(violations.map(\.rule) == [.apiVersion, .apiVersion])
        #expect(violations.first?.message.contains("Customer.defaultEmailAddress exists from API 2025-04") == true)
        #expect(violations.first?.message.contains("runs on API 2025-01") == true)
        #expect(error?.file.hasSuffix("customers.graphql") == true)
        #expect("\(error!)".contains("customers.graphql:\(violations.first?.line ?? 0):"))
        #expect(h.sim.recordedRequests.isEmpty)
        #expect(h.sim.operations.isEmpty)
    }

    @Test("schema pull: introspection through the shop's connection, cached per API version; the cache then gates saved queries")
    func pullAndGate() async throws {
        let path = try SharedAdminSchemas.path("2026-01")
        let h = try await EngineHarness.make(customers: 5, orders: 5) { $0.schemaPath = path }
        defer { Task { await h.stop() } }
        let bad = try QueryFile(
            name: "bad", path: "bad.graphql", text: "{\n  orders {\n    edges { node { id nmae } }\n  }\n}\n")

        // No schema cached: the gate cannot see the typo; Shopify (the simulator with the SDL) refuses it.
        let unchecked = await #expect(throws: ShopifyError.self) {
            try await h.engine.runSaved(bad, shop: "sim", into: .file(NSTemporaryDirectory() + "sb-bad-\(UUID()).jsonl"))
        }
        #expect(unchecked?.message.contains("Field 'nmae' doesn't exist on type 'Order'") == true)

        let store = SchemaStore(connection: h.connection)
        let entry = try await store.pull(shop: h.shop, connector: ShopConnector(logger: Self.logger))
        #expect(entry.apiVersion == "2026-01")
        let shared = try AdminAPISchema.load(path: path)
        #expect(entry.typeCount == shared.typeCount)
        #expect(try store.list().map(\.apiVersion) == ["2026-01"])
        let pulled = try #require(try store.schema(apiVersion: "2026-01"))
        // The pulled schema judges like the SDL file: bundled queries clean, typos found with suggestions.
        for name in ["orders", "customers"] {
            var file = try QueryFile.resolve(name, queriesDirectory: TestEnvironment.packageRoot + "/queries")
            file.checks = QueryCheckContext(schema: pulled)
            #expect(file.validate(includingWarnings: true) == [], "\(name)")
        }

        // Now the typo is caught before any request, with line, column and a suggestion.
        h.sim.clearRecordedRequests()
        let operationsBefore = h.sim.operations.count
        let gated = await #expect(throws: QueryFileError.self) {
            try await h.engine.runSaved(bad, shop: "sim", into: .file(NSTemporaryDirectory() + "sb-bad-\(UUID()).jsonl"))
        }
        #expect(gated?.violations.map(\.rule) == [.schema])
        #expect(gated?.violations.first.map { "\($0.line):\($0.column)" } == "3:23")
        #expect(gated?.violations.first?.message.contains("Did you mean \"name\"") == true)
        #expect(h.sim.recordedRequests.isEmpty)
        #expect(h.sim.operations.count == operationsBefore)
    }
}
