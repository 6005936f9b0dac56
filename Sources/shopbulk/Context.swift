import ArgumentParser
import Foundation
import Importer
import Logging
import Migrations
import Postgres

/// What most subcommands need: a logger, the database (at the current schema) and the run-time
/// folders, all checked before any network access.
struct Context {
    /// What a command may do to the schema.
    enum Schema {
        /// Apply pending migrations (`migrate`, `import`, `run`, `load`, `demo`).
        case apply
        /// Stop when migrations are pending: every other command, read-only ones above all.
        case requireCurrent
    }

    var logger: Logger
    var connectionString: String
    var connection: PostgresConnection

    init(database: DatabaseOptions, output: OutputOptions, schema: Schema) throws {
        logger = output.makeLogger()
        let migrationsPath = try database.migrationsPath()
        let migrator = try Migrator(directory: migrationsPath, logger: logger)
        connectionString = try database.connectionString(logger: logger)
        connection = try PostgresConnection(connectionString)
        switch schema {
        case .apply:
            let applied = try migrator.apply(on: connection)
            if !applied.isEmpty {
                logger.info("database schema updated", metadata: ["applied": "\(applied.map(\.fileName).joined(separator: ","))"])
            }
        case .requireCurrent:
            try migrator.requireCurrent(on: connection)
        }
    }

    /// Another connection to the same database (for the run ledger, which must outlive a rollback).
    func newConnection() throws -> PostgresConnection { try PostgresConnection(connectionString) }
}

/// The folder of query files.
struct QueryOptions: ParsableArguments {
    @Option(
        name: .customLong("queries-dir"),
        help: "Folder of .graphql query files (default: $SHOPBULK_QUERIES_DIR, else the installed one beside the executable).")
    var queriesDirectory: String?
}
