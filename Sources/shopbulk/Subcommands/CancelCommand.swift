import ArgumentParser
import Importer
import ShopifyAdmin

/// `shopbulk cancel SHOP`: cancel this tool's running operations of a shop.
struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel the bulk operations shopbulk started for a shop and that still run (never another app's).")

    @Argument(help: "The shop.")
    var shop: String

    @OptionGroup var shopify: ShopifyOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let context = try Context(database: database, output: output, schema: .requireCurrent)
        let engine = ImportEngine(
            databaseURL: context.connectionString, queriesDirectory: nil, connector: shopify.connector(logger: context.logger),
            progress: ProgressBoard(live: false, logger: context.logger), logger: context.logger)
        let canceled = try await engine.cancel(shop: shop)
        if output.json {
            printJSON(CancelReport(canceled: canceled))
        } else if canceled.isEmpty {
            print("No running operations of shopbulk for \(shop).")
        } else {
            for gid in canceled { print("canceled \(gid.visiblyEscaped)") }
        }
    }
}
