import ArgumentParser
import Foundation
import Importer
import ServiceDeskServer

extension APIKeyCommand {
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
}
