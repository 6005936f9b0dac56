import ArgumentParser
import Foundation
import Importer
import ServiceDesk
import ShopifyAdmin

extension ShopCommand {
    /// `shopbulk shop enable NAME`
    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a shop's imports (`import --all` includes it).")
        @Argument(help: "The shop.") var name: String
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        func run() async throws { try setEnabled(name, true, database: database, output: output) }
    }
}
