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
}
