import ArgumentParser

/// `shopbulk query`: work with query files.
struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Work with bulk query files (queries/*.graphql).",
        subcommands: [QueryCheckCommand.self]
    )
}
