import ArgumentParser
import BulkQueries
import Foundation
import Importer

/// `shopbulk run QUERYFILE --shop SHOP --out FILE | --table NAME`: an ad-hoc saved query.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a saved query (any bulk-valid .graphql file) as a bulk operation, into a JSONL file or a table.",
        discussion:
            "The table is created if missing: (shop_id, gid, type, parent_gid, data jsonb, run_id, imported_at), keyed by (shop_id, gid).")

    @Argument(help: "The query file, or the name of one in queries/.")
    var query: String
    @Option(help: "The shop to run it against.")
    var shop: String
    @Option(
        help:
            "Write the JSONL result to this file (- for standard output; written under a temporary name, mode 0600, and renamed when complete; a device or FIFO is written directly)."
    )
    var out: String?
    @Option(help: "Load the result into this table.")
    var table: String?
    @Option(name: .customLong("var"), help: "A template variable NAME=VALUE for {{var:NAME}} (repeatable).")
    var variables: [String] = []

    @OptionGroup var shopify: ShopifyOptions
    @OptionGroup var queries: QueryOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard (out != nil) != (table != nil) else { throw ValidationError("give exactly one of --out FILE or --table NAME") }
        for v in variables where !v.contains("=") { throw ValidationError("--var takes NAME=VALUE, got '\(v)'") }
    }

    func run() async throws {
        let context = try Context(database: database, output: output, schema: .apply)
        let file = try QueryFile.resolve(query, queriesDirectory: queries.queriesDirectory)
        let progress = ProgressBoard(live: !output.json && isatty(2) == 1, logger: context.logger)
        let engine = ImportEngine(
            databaseURL: context.connectionString, queriesDirectory: queries.queriesDirectory,
            connector: shopify.connector(logger: context.logger),
            progress: progress, logger: context.logger)
        var vars: [String: String] = [:]
        for v in variables {
            let parts = v.split(separator: "=", maxSplits: 1)
            vars[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        let destination: SavedQueryDestination = out.map { .file($0) } ?? .table(table!)
        let shop = self.shop
        let frozenVars = vars
        let report = try await Interruption.run {
            defer { progress.finish() }
            return try await engine.runSaved(file, shop: shop, into: destination, variables: frozenVars)
        }
        if output.json {
            printJSON(RunJSON(report))
        } else {
            let target = out == "-" ? "standard output" : out ?? table!
            let line =
                "\(file.name) for \(shop): \(report.lines) lines, \(report.bytes) bytes → \(target) (\(report.rows) rows) in \(String(format: "%.1f", report.seconds)) s (run \(report.runID))"
            // With --out - the result itself is on standard output.
            if out == "-" { FileHandle.standardError.write(Data((line + "\n").utf8)) } else { print(line) }
        }
    }
}
