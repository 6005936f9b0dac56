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
