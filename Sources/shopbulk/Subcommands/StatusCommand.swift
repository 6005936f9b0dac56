import ArgumentParser
import Foundation
import Importer
import ServiceDesk
import ShopifyAdmin

/// `shopbulk status [SHOP]`: runs, operations in flight, high-water marks and last errors per shop.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each shop's latest runs, operations in flight, high-water marks and last errors.",
        discussion: "Reads the database only (no Shopify request).")

    @Argument(help: "One shop (default: every shop).")
    var shop: String?

    @Option(help: "How many of the latest runs to show per shop.")
    var runs: Int = 10

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard (1...1000).contains(runs) else { throw ValidationError("--runs must be in 1...1000") }
    }

    func run() async throws {
        let context = try Context(database: database, output: output, schema: .requireCurrent)
        let store = ShopStore(connection: context.connection)
        let shops = try shop.map { [try store.require($0)] } ?? store.all()
        let statuses = try ServiceDeskQueries(connection: context.connection).status(of: shops, runLimit: runs)
        if output.json {
            printEncodable(statuses)
            return
        }
        if statuses.isEmpty {
            print("No shops yet; add one with `shopbulk shop add`.")
            return
        }
        print(statuses.map(Self.render).joined(separator: "\n"), terminator: "")
    }

    /// The status for a terminal; stored text (error messages from Shopify or a result host above
    /// all) is escaped (`TerminalText`), in tables and lines alike.
    static func render(_ s: ShopStatus) -> String {
        func t(_ text: String) -> String { text.visiblyEscaped }
        var out = "\(t(s.shop))  \(t(s.storeDomain))  \(s.enabled ? "enabled" : "DISABLED")  API \(t(s.apiVersion))"
        out += "  line items \(s.importLineItems ? "on" : "off")  customers as \(t(s.customersAs))"
        if let base = s.apiBase { out += "  via \(t(base))" }
        out += "\n"
        out += schedule(s.schedule)
        if s.inFlight.isEmpty {
            out += "  In flight: none\n"
        } else {
            out += "  In flight (\(s.inFlight.count)):\n" + runTable(s.inFlight).render(indent: "    ")
        }
        if s.runs.isEmpty {
            out += "  Runs: none yet\n"
        } else {
            out += "  Latest runs:\n" + runTable(s.runs).render(indent: "    ")
        }
        if s.highWaterMarks.isEmpty {
            out += "  High-water marks: none (no committed import yet)\n"
        } else {
            var table = TextTable(["RESOURCE", "UPDATED AT", "ID", "RUN", "FULL IMPORT", "MOVED"], rightAligned: [2, 3, 5])
            for m in s.highWaterMarks {
                table.append([
                    m.resource, m.updatedAt, m.id.map(String.init), m.lastRunId.map(String.init), m.fullImportDoneAt,
                    HumanFormat.age(seconds: m.ageSeconds) + " ago",
                ])
            }
            out += "  High-water marks:\n" + table.render(indent: "    ")
        }
        if s.lastErrors.isEmpty {
            out += "  Last errors: none\n"
        } else {
            out += "  Last errors:\n"
            for r in s.lastErrors {
                let message = TextTable.clean(r.errorMessage ?? "", max: 300)
                out += "    run \(r.id) (\(t(r.kind)) \(t(r.resource)), \(t(r.status)), \(HumanFormat.age(seconds: r.ageSeconds)) ago): "
                out += [r.errorCode.map(t), message.isEmpty ? nil : message].compactMap { $0 }.joined(separator: ": ") + "\n"
            }
        }
        return out
    }

    /// The worker fleet's view: schedule, next due, last outcome, who holds the shop now.
    static func schedule(_ schedule: ScheduleStatus?) -> String {
        guard let c = schedule, c.deltaEvery != nil || c.reconcileEvery != nil || c.lastOutcome != nil else {
            return "  Schedule: none (set one with `shopbulk shop edit NAME --delta-every 15m`)\n"
        }
        func t(_ text: String) -> String { text.visiblyEscaped }
        var every: [String] = []
        if let d = c.deltaEvery { every.append("delta every \(d)") }
        if let r = c.reconcileEvery { every.append("reconcile every \(r)") }
        var out = "  Schedule: \(every.isEmpty ? "off" : every.joined(separator: ", "))"
        if let due = c.dueInSeconds {
            out += due <= 0 ? "; due now (\(HumanFormat.age(seconds: -due)) overdue)" : "; next due in \(HumanFormat.age(seconds: due))"
        }
        out += "\n"
        if let holder = c.heldBy {
            out += "    Held by: worker \(t(holder)) since \(c.heldSince ?? "?") (\(c.lastMode.map(t) ?? "?"))\n"
        } else {
            out += "    Held by: nobody\n"
        }
        if let outcome = c.lastOutcome {
            out += "    Last: \(c.lastMode.map(t) ?? "") \(t(outcome))"
            if let ago = c.lastFinishedSecondsAgo { out += " \(HumanFormat.age(seconds: ago)) ago" }
            out += "\n"
        }
        if c.consecutiveFailures > 0 {
            out += "    Failing: \(c.consecutiveFailures) in a row; backing off until \(c.backoffUntil ?? "?")"
            if let e = c.lastError { out += ": \(TextTable.clean(e, max: 300))" }
            out += "\n"
        }
        return out
    }

    static func runTable(_ runs: [RunSummary]) -> TextTable {
        var table = TextTable(
            ["ID", "KIND", "RESOURCE", "WINDOW", "STATUS", "SHOPIFY", "OBJECTS", "BYTES", "ROWS", "AGE"], rightAligned: [0, 6, 7, 8, 9])
        for r in runs {
            var bytes = HumanFormat.bytes(r.bytesDownloaded)
            if let size = r.fileSize, size > 0, r.bytesDownloaded < size { bytes += " of \(HumanFormat.bytes(size))" }
            table.append([
                String(r.id), r.kind, r.resource, window(r), r.status + (r.attempt > 1 ? " (try \(r.attempt))" : ""), r.shopifyStatus,
                r.objectCount.map(String.init), bytes, String(r.rowsLoaded) + (r.rowsRejected > 0 ? " (\(r.rowsRejected) rejected)" : ""),
                HumanFormat.age(seconds: r.ageSeconds),
            ])
        }
        return table
    }

    /// `updated_at 2025-01-01..2025-02-01`, or `-` without a window.
    static func window(_ r: RunSummary) -> String? {
        guard r.windowField != nil || r.windowStart != nil || r.windowEnd != nil else { return nil }
        func short(_ iso: String?) -> String {
            guard let iso else { return "" }
            return iso.hasSuffix("T00:00:00Z") ? String(iso.prefix(10)) : iso
        }
        return "\(r.windowField ?? "")\(r.windowField == nil ? "" : " ")\(short(r.windowStart))..\(short(r.windowEnd))"
    }
}
