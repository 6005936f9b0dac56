import ArgumentParser
import BulkQueries
import Foundation
import Importer

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
