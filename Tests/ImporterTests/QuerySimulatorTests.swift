import Foundation
import Logging
import ShopifyAdmin
import ShopifySimulator
import Testing

@testable import BulkQueries
@testable import Importer

/// The prepared bundled queries are accepted by the simulator, which applies Shopify's bulk rules
/// with its own schema (no database needed).
@Suite("Query files: prepared queries against the simulator")
struct QuerySimulatorTests {
    static let june = QueryWindow(field: "updated_at", start: date("2025-06-01T00:00:00Z"), end: date("2025-07-01T00:00:00Z"))

    static let cases: [(String, QueryWindow?, Set<String>)] = [
        ("orders", june, []),
        ("orders", QueryWindow(field: "created_at", start: date("2025-06-01T00:00:00Z"), end: nil), ["LineItem"]),
        ("customers", june, []),
        ("reconcile-orders", nil, []),
        ("reconcile-customers", nil, []),
    ]

    @Test("bundled queries, prepared with and without windows and line items, are accepted")
    func bundledQueriesAreAccepted() async throws {
        let sim = try await ShopifySimulator.start(SimulatorConfig(customers: 5, orders: 5))
        do {
            try await submitAll(to: sim)
        } catch {
            await sim.stop()
            throw error
        }
        await sim.stop()
    }

    func submitAll(to sim: ShopifySimulator) async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .error
        let client = ShopifyAdminClient(
            endpoint: try ShopEndpoint(store: "sim-shop", apiVersion: "2026-01", apiBase: sim.baseURL),
            credentials: .accessToken(Secret(try #require(sim.legacyToken))), logger: logger)
        for (name, window, excluding) in Self.cases {
            let prepared = try QueryFile.resolve(name, queriesDirectory: bundledQueriesDirectory).prepare(
                window: window, excludingTypes: excluding)
            switch try await client.trySubmitBulkQuery(query: prepared.text, queryName: name) {
            case .submitted(let operation):
                let done = await sim.waitForOperation(operation.id)
                #expect(done?.status == "COMPLETED", "\(name)")
            case .rejected(let errors):
                Issue.record("\(name) rejected: \(errors)")
            }
        }
    }
}
