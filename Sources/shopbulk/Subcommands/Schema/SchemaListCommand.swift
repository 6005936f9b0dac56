import ArgumentParser
import BulkQueries
import Foundation
import Importer

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
