import ArgumentParser

/// `shopbulk jsonl`: tools for JSONL files.
struct JSONLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jsonl",
        abstract: "Work with JSONL files (Shopify bulk operation results).",
        subcommands: [JSONLCheckCommand.self]
    )
}
