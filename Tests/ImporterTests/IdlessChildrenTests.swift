import BulkQueries
import Foundation
import Importer
import Logging
import Postgres
import ServiceDesk
import ShopifyAdmin
import ShopifySimulator
import TestSupport
import Testing

/// The worked example of docs/query-files.md: shop-specific query files with a loyalty-tier
/// metafield and the orders' discount applications (lines without id).
enum WorkedExample {
    static var customers: String { TestEnvironment.packageRoot + "/queries/examples/halo/customers.graphql" }
    static var orders: String { TestEnvironment.packageRoot + "/queries/examples/halo/orders.graphql" }

    static var logger: Logger {
        var l = Logger(label: "test")
        l.logLevel = .warning
        return l
    }

    /// Runs the example orders query on the simulator and returns its result file's text.
    static func export(_ sim: ShopifySimulator, groupObjects: Bool) async throws -> String {
        let client = ShopifyAdminClient(
            endpoint: try ShopEndpoint(store: "sim-shop", apiVersion: "2026-01", apiBase: sim.baseURL),
            credentials: .accessToken(Secret(try #require(sim.legacyToken))), logger: logger)
        let prepared = try QueryFile.load(path: orders).prepare(window: nil)
        let operation = try await client.submitBulkQuery(query: prepared.text, groupObjects: groupObjects)
        let done = try #require(await sim.waitForOperation(operation.id))
        #expect(done.status == "COMPLETED")
        let file = try #require(done.resultFile)
        return try String(contentsOf: file, encoding: .utf8)
    }

    /// What the simulator says each order's discount applications are: order id → [(type, code or title)].
    static func expected(_ sim: ShopifySimulator) -> [Int64: [(String, String?)]] {
        var out: [Int64: [(String, String?)]] = [:]
        for o in sim.shop.orders where !o.discountApplications.isEmpty {
            out[o.id] = o.discountApplications.map { ($0.typename, $0.code ?? $0.title) }
        }
        return out
    }
}

@Suite(
    "Id-less children, per-shop query files, metafields: simulator and real database", .enabled(if: TestEnvironment.databaseTestsEnabled))
struct IdlessChildrenTests {
    func stored(_ connection: PostgresConnection) throws -> [Int64: [(String, String?)]] {
        var out: [Int64: [(String, String?)]] = [:]
        for row in try connection.query(
            "SELECT order_id, position, kind, coalesce(code, title) AS label FROM order_discount_applications ORDER BY order_id, position")
        {
            let order = try row["order_id"].decode(Int64.self)
            #expect(row["position"].int == out[order, default: []].count, "positions of order \(order) are 0, 1, …")
            out[order, default: []].append((row["kind"].string ?? "", row["label"].string))
        }
        return out
    }

    func same(_ a: [Int64: [(String, String?)]], _ b: [Int64: [(String, String?)]]) -> Bool {
        a.count == b.count
            && a.allSatisfy { k, v in b[k].map { $0.map { "\($0.0)|\($0.1 ?? "")" } == v.map { "\($0.0)|\($0.1 ?? "")" } } ?? false }
    }

    @Test("the simulator with the 2026-01 SDL: a shop's own query files with metafields and discount applications, imported end to end")
    func endToEnd() async throws {
        let path = try SharedAdminSchemas.path("2026-01")
        let h = try await EngineHarness.make(customers: 30, orders: 60) { $0.schemaPath = path }
        defer { Task { await h.stop() } }
        let files = ShopQueryFiles(connection: h.connection)
        try files.set("customers", path: WorkedExample.customers, shop: h.shop, logger: WorkedExample.logger)
        try files.set("orders", path: WorkedExample.orders, shop: h.shop, logger: WorkedExample.logger)
        #expect(try files.all(shop: h.shop).count == 2)
        try ContactFieldMap(connection: h.connection).set("custom.loyalty_tier", source: "loyalty_tier", shop: h.shop)
        try ContactFieldMap(connection: h.connection).set("custom.vip", source: "extra.vip.value", shop: h.shop)

        _ = try await h.full()
        // The simulator got the shop's own queries.
        #expect(h.submittedQueries.contains { $0.contains("discountApplications") })
        #expect(h.submittedQueries.contains { $0.contains("loyalty_tier") })

        let expected = WorkedExample.expected(h.sim)
        #expect(!expected.isEmpty)
        let got = try stored(h.connection)
        #expect(
            same(got, expected),
            "stored \(got.count) orders' applications, expected \(expected.count); first difference: \(expected.first { k, v in got[k].map { $0.map(\.0) != v.map(\.0) } ?? true }.map { "\($0.key): \($0.value) vs \(got[$0.key] ?? [])" } ?? "-")"
        )
        // Metafields: the aliased, mapped one in its column; the unmapped one in extra; the connection's lines in bulk_records.
        let customers = h.sim.shop.customers
        #expect(!customers.isEmpty)
        for c in customers {
            let row = try #require(
                try h.connection.query("SELECT loyalty_tier, extra->'vip'->>'value' AS vip FROM customers WHERE id = $1", [c.id]).first)
            #expect(row["loyalty_tier"].string == c.metafields.first { $0.key == "loyalty_tier" }?.value)
            #expect(row["vip"].string == c.metafields.first { $0.key == "vip" }?.value)
        }
        #expect(
            try h.count("SELECT count(*) FROM bulk_records WHERE type = 'Metafield'") == customers.reduce(0) { $0 + $1.metafields.count })

        // The service desk shows the shop's custom fields.
        let vip = try #require(customers.first { $0.index % 7 == 0 && $0.email != nil })
        let lookup = try ServiceDeskQueries(connection: h.connection).lookup(shop: h.shop, email: vip.email!)
        let person = try #require(lookup.people.first)
        #expect(person.customFields["loyalty_tier"] == .some(vip.metafields[0].value))
        #expect(person.customFields["vip"] == .some("true"))

        // A re-load (a delta over changed orders) replaces their applications as a set: no duplicates.
        let before = try h.count("SELECT count(*) FROM order_discount_applications")
        h.sim.touch(orders: 10)
        _ = try await h.engine.run(shop: "sim", mode: .delta, options: EngineHarness.fastOptions)
        #expect(try h.count("SELECT count(*) FROM order_discount_applications") == before)
        #expect(same(try stored(h.connection), WorkedExample.expected(h.sim)))
    }

    @Test("discount applications load the same from grouped and ungrouped output, and a re-load replaces an order's set")
    func groupedUngroupedAndReload() async throws {
        let path = try SharedAdminSchemas.path("2026-01")
        let sim = try await ShopifySimulator.start(
            {
                var c = SimulatorConfig(seed: 5, customers: 20, orders: 80)
                c.schemaPath = path
                return c
            }())
        defer { Task { await sim.stop() } }
        let grouped = try await WorkedExample.export(sim, groupObjects: true)
        let ungrouped = try await WorkedExample.export(sim, groupObjects: false)
        #expect(grouped != ungrouped)  // the ungrouped file interleaves parents and children
        let query = try QueryFile.load(path: WorkedExample.orders)
        let expected = WorkedExample.expected(sim)
        #expect(!expected.isEmpty)

        let a = try LoaderHarness()
        try a.load(grouped, query: query)
        #expect(same(try stored(a.connection), expected))
        let b = try LoaderHarness()
        try b.load(ungrouped, query: query)
        #expect(same(try stored(b.connection), expected))

        // The same file again, and the other layout: nothing doubles.
        let count = try a.count("SELECT count(*) FROM order_discount_applications")
        try a.load(grouped, query: query)
        try a.load(ungrouped, query: query)
        #expect(try a.count("SELECT count(*) FROM order_discount_applications") == count)
        #expect(same(try stored(a.connection), expected))

        // An order that now has one application fewer: its set is replaced (the last position goes).
        let (order, apps) = try #require(expected.first { $0.value.count == 2 })
        var lines = grouped.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        let last = try #require(
            lines.lastIndex { $0.contains("\"__parentId\":\"gid://shopify/Order/\(order)\"") && $0.contains("DiscountApplication") })
        lines.remove(at: last)
        let summary = try a.load(lines.joined(separator: "\n") + "\n", query: query)
        #expect(summary.removedChildren["order_discount_applications"] == 1)
        let rows = try stored(a.connection)[order] ?? []
        #expect(rows.map(\.0) == [apps[0].0])
        #expect(try a.count("SELECT count(*) FROM order_discount_applications") == count - 1)
    }

    @Test("id-less lines of a type no section maps go to bulk_records, keyed by parent, type and position; never a failed load")
    func unmappedIdlessLines() throws {
        let h = try LoaderHarness()
        let text = [
            Lines.order(1),
            #"{"__typename":"ShippingLine","title":"Express","__parentId":"gid://shopify/Order/1"}"#,
            #"{"__typename":"ShippingLine","title":"Gift wrap","__parentId":"gid://shopify/Order/1"}"#,
        ].joined(separator: "\n")
        let summary = try h.load(text + "\n")
        #expect(summary.otherRows == 2)
        let keys = try h.connection.query("SELECT gid, data->>'title' AS t FROM bulk_records ORDER BY gid").map {
            "\($0["gid"].string ?? "")=\($0["t"].string ?? "")"
        }
        #expect(keys == ["gid://shopify/Order/1#ShippingLine-0=Express", "gid://shopify/Order/1#ShippingLine-1=Gift wrap"])
        // Loaded again: the same two records, not four.
        try h.load(text + "\n")
        #expect(try h.count("SELECT count(*) FROM bulk_records") == 2)
    }
}
