import ArgumentParser
import EmbeddedPostgres
import Importer

/// `shopbulk db start|stop|status|url`: manage the embedded local PostgreSQL cluster.
struct DBCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Manage the embedded local PostgreSQL cluster (used when no --database-url / DATABASE_URL is given).",
        subcommands: [Start.self, Stop.self, Status.self, URL.self])

    struct Start: LocalClusterCommand {
        static let configuration = CommandConfiguration(abstract: "Create (first time) and start the local cluster.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        func act(on local: LocalPostgres) throws -> String {
            _ = try local.ensureRunning()
            return try local.statusLine()
        }
    }

    struct Stop: LocalClusterCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the local cluster.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        func act(on local: LocalPostgres) throws -> String {
            try local.stop()
            return try local.statusLine()
        }
    }

    struct Status: LocalClusterCommand {
        static let configuration = CommandConfiguration(abstract: "Say whether the local cluster exists and runs.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        func act(on local: LocalPostgres) throws -> String { try local.statusLine() }
    }

    struct URL: LocalClusterCommand {
        static let configuration = CommandConfiguration(abstract: "Print the local cluster's connection URL (starting it if needed).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        func act(on local: LocalPostgres) throws -> String { try local.ensureRunning() }
    }
}

/// A `db` subcommand: one action on the embedded cluster, whose result line is printed.
protocol LocalClusterCommand: AsyncParsableCommand {
    var database: DatabaseOptions { get }
    var output: OutputOptions { get }
    func act(on local: LocalPostgres) throws -> String
}

extension LocalClusterCommand {
    func run() async throws { print(try act(on: database.localCluster(output))) }
}

extension DatabaseOptions {
    /// The embedded cluster these options point at.
    func localCluster(_ output: OutputOptions) -> LocalPostgres {
        LocalPostgres(home: dataDirectory, logger: output.makeLogger())
    }
}
