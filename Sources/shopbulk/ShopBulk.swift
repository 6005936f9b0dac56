import ArgumentParser
import Foundation
import Importer
import ShopifyAdmin

/// The `shopbulk` command: imports Shopify stores into PostgreSQL through bulk operations.
struct ShopBulk: AsyncParsableCommand {
    static let version = "0.1.0"
    static let configuration = CommandConfiguration(
        commandName: "shopbulk",
        abstract: "Import Shopify stores into PostgreSQL through GraphQL bulk operations.",
        discussion: """
            Exit codes: 0 success, 1 the work failed (the message says why), 2 usage error.

            Database: --database-url, else DATABASE_URL, else a private local PostgreSQL cluster that \
            shopbulk creates and starts itself (see `shopbulk db`).
            """,
        version: version,
        subcommands: [
            MigrateCommand.self, DBCommand.self, LoadCommand.self, ImportCommand.self, RunCommand.self, CancelCommand.self,
            QueryCommand.self, DownloadCommand.self, DemoCommand.self, JSONLCommand.self,
            ShopCommand.self, LookupCommand.self, StatusCommand.self, SchemaCommand.self, WorkerCommand.self,
            ServeCommand.self, APIKeyCommand.self,
        ]
    )
}

/// Runs the command line and maps every outcome to the documented exit codes.
@main
enum Entry {
    static func main() async {
        do {
            var command = try ShopBulk.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            exit(0)
        } catch {
            let code = ShopBulk.exitCode(for: error)
            if code == .success {
                print(ShopBulk.fullMessage(for: error))
                exit(0)
            }
            if error is ExitCode {
                exit(code.rawValue)
            }
            // swift-argument-parser classifies its own errors: unknown options, bad values and
            // `ValidationError`s are `.validationFailure`; everything else is the command's failure.
            let isUsage = code == .validationFailure
            // Errors may quote what a server or a file said: escaped, keeping only shopbulk's own line breaks.
            var text = ShopBulk.fullMessage(for: error)
            // The stable code of shopbulk's own errors (docs/error-codes.md), for scripts to match.
            if !isUsage, let code = ImportError.code(of: error), text.hasPrefix("Error: ") {
                text = "Error [\(code)]: " + text.dropFirst("Error: ".count)
            }
            let message = TerminalText.escape(text, keepingNewlines: true)
            FileHandle.standardError.write(Data((message + "\n").utf8))
            exit(isUsage ? 2 : 1)
        }
    }
}
