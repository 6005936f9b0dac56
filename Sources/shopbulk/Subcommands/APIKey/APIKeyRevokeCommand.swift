import ArgumentParser
import Foundation
import Importer
import ServiceDeskServer

extension APIKeyCommand {
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
