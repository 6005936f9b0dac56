import ArgumentParser

/// The `shopbulk` command: imports Shopify stores into PostgreSQL through bulk operations.
@main
struct ShopBulk: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shopbulk",
        abstract: "Import Shopify stores into PostgreSQL through GraphQL bulk operations.",
        version: "0.1.0",
        subcommands: [JSONLCommand.self]
    )
}
