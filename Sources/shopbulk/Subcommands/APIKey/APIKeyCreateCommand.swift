import ArgumentParser
import Foundation
import Importer
import ServiceDeskServer

extension APIKeyCommand {
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
}
