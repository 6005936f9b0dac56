import ArgumentParser
import EmbeddedPostgres
import Importer

/// `shopbulk db start|stop|status|url`: manage the embedded local PostgreSQL cluster.
struct DBCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Manage the embedded local PostgreSQL cluster (used when no --database-url / DATABASE_URL is given).",
        subcommands: [Start.self, Stop.self, Status.self, URL.self])

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create (first time) and start the local cluster.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        func run() async throws {
            let local = database.localCluster(output)
            try local.ensureRunning()
            print(try local.statusLine())
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the local cluster.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        func run() async throws {
            let local = database.localCluster(output)
            try local.stop()
            print(try local.statusLine())
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Say whether the local cluster exists and runs.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        func run() async throws {
            let local = database.localCluster(output)
            print(try local.statusLine())
        }
    }

    struct URL: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the local cluster's connection URL (starting it if needed).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        func run() async throws {
            let local = database.localCluster(output)
            print(try local.ensureRunning())
        }
    }
}

extension DatabaseOptions {
    /// The embedded cluster these options point at.
    func localCluster(_ output: OutputOptions) -> LocalPostgres {
        LocalPostgres(home: dataDirectory, logger: output.makeLogger())
    }
}
