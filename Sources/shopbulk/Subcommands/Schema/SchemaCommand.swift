import ArgumentParser
import BulkQueries
import Foundation
import Importer

/// `shopbulk schema`: the Admin API schemas query files are validated against.
struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Fetch and list the Admin API schemas (per API version) that query files are validated against.",
        subcommands: [SchemaPullCommand.self, SchemaListCommand.self, SchemaShowCommand.self]
    )
}

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

/// `shopbulk schema list`: the cached schemas.
struct SchemaListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the cached Admin API schemas.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let context = try Context(database: database, output: output, schema: .requireCurrent)
        let entries = try SchemaStore(connection: context.connection).list()
        if output.json {
            printJSON(
                entries.map {
                    SchemaListEntry(
                        apiVersion: $0.apiVersion, types: $0.typeCount, sha256: $0.sha256, pulledFrom: Nullable($0.pulledFrom),
                        pulledAt: $0.pulledAt)
                })
            return
        }
        if entries.isEmpty { print("No schema cached; run `shopbulk schema pull SHOP`.") }
        for e in entries {
            print("\(e.apiVersion)  \(e.typeCount) types  pulled \(e.pulledAt) from \(e.pulledFrom ?? "?")  sha256 \(e.sha256.prefix(12))")
        }
    }
}

/// `shopbulk schema show VERSION`: print a cached schema's SDL.
struct SchemaShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Print the SDL of a cached Admin API schema.")

    @Argument(help: "The API version (2026-01).")
    var apiVersion: String

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let context = try Context(database: database, output: output, schema: .requireCurrent)
        guard let sdl = try SchemaStore(connection: context.connection).sdl(apiVersion: apiVersion) else {
            throw SchemaError(
                message: "no schema cached for API \(apiVersion); run `shopbulk schema pull SHOP` with a shop on that version")
        }
        print(sdl, terminator: "")
    }
}
