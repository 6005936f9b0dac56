import ArgumentParser
import BulkQueries
import Foundation
import Importer

/// `shopbulk schema pull SHOP`: introspect the shop's Admin API on its version and cache the schema.
struct SchemaPullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Fetch the shop's Admin API schema by introspection (on the shop's API version) and cache it for that version.",
        discussion: """
            Afterwards `query check FILE --shop SHOP`, `import`, `run` and `load` validate every field, \
            argument and enum value of the query files against it before anything is submitted.
            """)

    @Argument(help: "The shop whose connection and API version to use.")
    var shop: String

    @OptionGroup var shopify: ShopifyOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let context = try Context(database: database, output: output, schema: .requireCurrent)
        let shop = try ShopStore(connection: context.connection).require(shop)
        let entry = try await SchemaStore(connection: context.connection).pull(
            shop: shop, connector: shopify.connector(logger: context.logger))
        if output.json {
            printJSON(SchemaPullReport(apiVersion: entry.apiVersion, types: entry.typeCount, sha256: entry.sha256, pulledFrom: shop.name))
        } else {
            print(
                "Cached the Admin API \(entry.apiVersion) schema from \(shop.name): \(entry.typeCount) types (sha256 \(entry.sha256.prefix(12)))"
            )
        }
    }
}
