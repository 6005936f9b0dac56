import Foundation
import Importer
import Loader
import Postgres
import TestSupport
import Testing

/// The merge's plans must stay linear whatever the target tables' statistics say: a re-load right
/// after a load once took minutes because the vanished-children removal was planned as a nested loop
/// that scanned a staging table once per row.
@Suite("Merge plans under misleading statistics", .serialized, .enabled(if: TestEnvironment.databaseTestsEnabled))
struct PlanStabilityTests {
    /// Orders with line items, ungrouped: every line item comes after all orders.
    static func file(orders: Int, linesPerOrder: Int, dropping dropped: Set<Int> = []) -> String {
        var parents: [String] = []
        var children: [String] = []
        for o in 0..<orders {
            parents.append(Lines.order(10_000 + o, updatedAt: "2025-06-04T08:00:00Z"))
            for l in 0..<linesPerOrder where !dropped.contains(1_000_000 + o * linesPerOrder + l) {
                children.append(Lines.lineItem(1_000_000 + o * linesPerOrder + l, order: 10_000 + o))
            }
        }
        return (parents + children.reversed()).joined(separator: "\n")
    }

    /// Whether a JSON plan has a Nested Loop whose inner side scans a staging table sequentially.
    static func nestedLoopsOverStagingScans(_ json: String) throws -> [String] {
        let root = try JSONSerialization.jsonObject(with: Data(json.utf8))
        var found: [String] = []
        func walk(_ node: [String: Any]) {
            let children = node["Plans"] as? [[String: Any]] ?? []
            if (node["Node Type"] as? String) == "Nested Loop", children.count == 2 {
                var inner = [children[1]]
                while let n = inner.popLast() {
                    if (n["Node Type"] as? String) == "Seq Scan", let rel = n["Relation Name"] as? String, rel.hasPrefix("sb_") {
                        found.append(rel)
                    }
                    inner.append(contentsOf: n["Plans"] as? [[String: Any]] ?? [])
                }
            }
            children.forEach(walk)
        }
        for entry in root as? [[String: Any]] ?? [] { if let plan = entry["Plan"] as? [String: Any] { walk(plan) } }
        return found
    }

    @Test(
        "re-load right after a load, statistics saying the tables are empty, only nested loops allowed: none scans a staging table per row")
    func reloadPlans() throws {
        let h = try LoaderHarness()
        // Statistics as an ANALYZE during the first load would leave them: the tables look empty.
        try h.connection.execute("ANALYZE orders; ANALYZE order_lines")
        let text = Self.file(orders: 3000, linesPerOrder: 3)
        try h.load(text)
        #expect(try h.count("SELECT count(*) FROM order_lines") == 9000)
        // Make the planner believe the committed rows are not there (what the slow re-load saw).
        try h.connection.execute(
            "UPDATE pg_class SET reltuples = 0 WHERE relname IN ('orders', 'order_lines') AND relnamespace = 'public'::regnamespace")
        // And take away the planner's way out: where statistics mislead it, it picks nested loops. With
        // hash and merge joins off, every join is one, and only an index on what is probed keeps each
        // loop from scanning a staging table per row.
        try h.connection.execute("SET enable_hashjoin = off; SET enable_mergejoin = off")
        let recorder = PlanRecorder()
        var options = LoadOptions()
        options.planRecorder = recorder
        // The second file drops one line item of each of the first 100 orders: the removal has work to do.
        let dropped = Set((0..<100).map { 1_000_000 + $0 * 3 })
        let second = Self.file(orders: 3000, linesPerOrder: 3, dropping: dropped)
        let summary = try h.load(second, options: options)
        #expect(summary.removedChildren["order_lines"] == 100)
        let plans = recorder.plans
        #expect(plans.contains { $0.name.hasPrefix("remove vanished") }, "the vanished-children removal ran")
        #expect(plans.contains { $0.name.hasPrefix("upsert orders") })
        #expect(plans.count >= 4)
        for (name, plan) in plans {
            let scans = try Self.nestedLoopsOverStagingScans(plan)
            #expect(scans.isEmpty, "\(name): nested loop over a sequential scan of \(scans)")
        }
    }
}
