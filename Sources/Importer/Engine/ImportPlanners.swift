import BulkQueries
import Foundation
import Loader

/// Plans a full import: the parent run (the shop's history up to the snapshot) and its windows. Pure.
enum FullImportPlanner {
    /// Shopify's customer search names the creation date `customer_date`, not `created_at`.
    static func searchField(root: String, windowField: String) -> String {
        root == "customers" && windowField == "created_at" ? "customer_date" : windowField
    }

    struct Plan: Sendable {
        var parent: RunLedger.NewRun
        /// The windows, oldest first; their `parentRunID` is set once the parent exists.
        var windows: [RunLedger.NewRun]
    }

    /// Windows of `days` from the oldest record (or, when the shop has none, one window from before
    /// Shopify existed, which covers whatever appears) to one second past the snapshot.
    static func plan(shopID: Int64, resource: String, query q: QueryFile, field: String, oldest: Date?, snapshot: Date, days: Double)
        -> Plan
    {
        let start = oldest ?? Date(timeIntervalSince1970: 1_136_073_600)
        let windows = WindowPlanner.split(
            field: field, from: start, to: snapshot.addingTimeInterval(1), days: oldest == nil ? 100_000 : days)
        let parent = RunLedger.NewRun(
            shopID: shopID, kind: "full", resource: resource, queryName: q.name, queryHash: q.hash, windowField: field,
            windowStart: Timestamp.text(start), windowEnd: Timestamp.text(snapshot), status: .running)
        return Plan(
            parent: parent,
            windows: windows.map { window in
                RunLedger.NewRun(
                    shopID: shopID, kind: "full", resource: resource, queryName: q.name, queryHash: q.hash, windowField: window.field,
                    windowStart: window.start.map(Timestamp.text), windowEnd: window.end.map(Timestamp.text))
            })
    }
}

/// Plans a delta import of one resource: from the committed mark minus the overlap to the snapshot.
enum DeltaPlanner {
    struct Plan: Sendable {
        var parent: RunLedger.NewRun
        var window: RunLedger.NewRun
    }

    static func plan(shopID: Int64, resource: String, query q: QueryFile, mark: Date, overlap: TimeInterval, snapshot: Date) -> Plan {
        let start = Timestamp.text(mark.addingTimeInterval(-overlap))
        let end = Timestamp.text(snapshot)
        func run(_ status: RunStatus) -> RunLedger.NewRun {
            RunLedger.NewRun(
                shopID: shopID, kind: "delta", resource: resource, queryName: q.name, queryHash: q.hash, windowField: "updated_at",
                windowStart: start, windowEnd: end, status: status)
        }
        return Plan(parent: run(.running), window: run(.planned))
    }
}
