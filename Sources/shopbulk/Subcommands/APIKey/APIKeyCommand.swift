import ArgumentParser
import Foundation
import Importer
import ServiceDeskServer

/// `shopbulk apikey create|list|revoke`: the keys `shopbulk serve` accepts.
struct APIKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apikey",
        abstract: "Create, list and revoke the API keys of `shopbulk serve`.",
        discussion: "Keys are printed once, at creation, and stored only as their SHA-256.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create", abstract: "Create a key and print it (the only time it is shown).")

        @Argument(help: "A name for the key (letters, digits, '.', '_', '-').")
        var name: String

        @Option(help: "A shop the key may read; repeat for more. Default: every shop.")
        var shop: [String] = []

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let context = try Context(database: database, output: output, schema: .requireCurrent)
            let key = try APIKeyStore(connection: context.connection).create(name: name, shops: shop)
            if output.json {
                printJSON(APIKeyCreateReport(name: name, key: key, shops: shop.isEmpty ? ["*"] : shop.sorted()))
            } else {
                print(key)
                FileHandle.standardError.write(
                    Data(
                        "API key \(name) created for \(shop.isEmpty ? "every shop" : shop.sorted().joined(separator: ", ")); it is shown only now.\n"
                            .utf8))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List the keys (names, shops, state; never the keys).")

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let context = try Context(database: database, output: output, schema: .requireCurrent)
            let keys = try APIKeyStore(connection: context.connection).list()
            if output.json {
                printJSON(keys.map(APIKeyListEntry.init))
                return
            }
            var table = TextTable(["NAME", "SHOPS", "CREATED (UTC)", "REVOKED (UTC)"])
            for k in keys {
                table.append([k.name, k.shops?.joined(separator: ",") ?? "*", k.createdAt, k.revokedAt ?? "-"])
            }
            print(
                keys.isEmpty ? "No API keys (create one with `shopbulk apikey create NAME`)." : table.render(),
                terminator: keys.isEmpty ? "\n" : "")
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke", abstract: "Revoke a key: the server refuses it within a second.")

        @Argument(help: "The key's name.")
        var name: String

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let context = try Context(database: database, output: output, schema: .requireCurrent)
            try APIKeyStore(connection: context.connection).revoke(name: name)
            print("API key \(name) revoked.")
        }
    }
}
