import ArgumentParser
import BulkQueries
import Foundation
import Importer
import Loader

/// `shopbulk load FILE --shop NAME --query orders|customers|PATH`: load a bulk result already on disk.
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Load a bulk-operation result file (JSONL) that is already on disk into the shop's tables.",
        discussion: """
            The file's lines are routed by the type in their GID and mapped to columns by the query file's \
            `#!` mapping. Everything is committed in one transaction, or nothing is. With --max-rejects N, \
            up to N bad lines are skipped and kept in rejected_records; the run then ends as partial.
            """)

    @Argument(help: "The JSONL file, or - for standard input.")
    var file: String

    @Option(help: "The shop the data belongs to (see `shopbulk shop list`).")
    var shop: String

    @Option(help: "The query that produced the file: orders, customers, or a .graphql path.")
    var query: String

    @Option(name: .customLong("max-rejects"), help: "How many bad lines may be skipped (default 0: the first one fails the load).")
    var maxRejects: Int = 0

    @Flag(
        name: .customLong("advance-high-water"),
        help: "Move the delta high-water mark to the greatest updatedAt in the file (only if the file holds every change up to then).")
    var advanceHighWater = false

    @OptionGroup var queries: QueryOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if maxRejects < 0 { throw ValidationError("--max-rejects must be 0 or more") }
        if file != "-" && !FileManager.default.isReadableFile(atPath: file) {
            throw ValidationError("cannot read \(file)")
        }
    }

    func run() async throws {
        let context = try Context(database: database, output: output, schema: .apply)
        let shop = try ShopStore(connection: context.connection).require(shop)
        // `orders` / `customers`: the shop's own query file when it has one (as its imports use).
        var queryFile =
            ShopQueryFiles.resources.contains(query)
            ? try ShopQueryFiles(connection: context.connection).resolve(query, shop: shop, queriesDirectory: queries.queriesDirectory)
            : try QueryFile.resolve(query, queriesDirectory: queries.queriesDirectory)
        try SchemaGate.check(&queryFile, shop: shop, store: SchemaStore(connection: context.connection), logger: context.logger)
        let ledger = RunLedger(connection: try context.newConnection())
        let root = queryFile.mapping.sections.first { $0.parentType == nil }?.table ?? queryFile.name
        let runID = try ledger.create(
            .init(shopID: shop.id, kind: "load", resource: root, queryName: queryFile.name, queryHash: queryFile.hash, status: .loading))
        do {
            let loader = try BulkLoader(
                connection: context.connection, mapping: queryFile.mapping, queryFile: queryFile.path, shopID: shop.id, runID: runID,
                source: file, options: LoadOptions(maxRejects: maxRejects, advanceHighWater: advanceHighWater), logger: context.logger)
            let summary = try loader.load(file: file)
            try ledger.record(runID, .init(bytesDownloaded: Int64(summary.bytes)))
            report(summary, runID: runID)
        } catch {
            try? ledger.fail(runID, code: (error as? LoadError)?.code.rawValue, message: "\(error)")
            throw error
        }
    }

    func report(_ s: LoadSummary, runID: Int64) {
        let rate = s.seconds > 0 ? Double(s.rowsLoaded) / s.seconds : 0
        if output.json {
            printJSON(LoadJSON(s, runID: runID))
            return
        }
        print(
            "Loaded \(file) (run \(runID)): \(s.lines) lines, \(s.bytes) bytes in \(String(format: "%.2f", s.seconds)) s (\(Int(rate)) rows/s)"
        )
        for (table, n) in s.rows.sorted(by: { $0.key < $1.key }) { print("  \(table): \(n) rows") }
        if s.otherRows > 0 { print("  bulk_records: \(s.otherRows) rows of unmapped types") }
        for (type, n) in s.orphans.sorted(by: { $0.key < $1.key }) {
            print("  warning: \(n) \(type) lines without their parent, kept in bulk_records")
        }
        for (table, n) in s.removedChildren.sorted(by: { $0.key < $1.key }) {
            print("  \(table): \(n) rows removed (no longer in their order)")
        }
        if s.rejected > 0 { print("  rejected: \(s.rejected) lines (see rejected_records, run \(runID)); run is partial") }
        if let mark = s.highWaterUpdatedAt { print("  high-water mark: \(mark)") }
    }
}
