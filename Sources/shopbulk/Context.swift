import ArgumentParser
import Foundation
import Importer
import Logging
import Migrations
import Postgres

/// What most subcommands need: a logger, the database (migrated to the current schema) and the
/// run-time folders, all checked before any network access.
struct Context {
    var logger: Logger
    var connectionString: String
    var connection: PostgresConnection

    init(database: DatabaseOptions, output: OutputOptions, migrate: Bool = true) throws {
        logger = output.makeLogger()
        let migrationsPath = try database.migrationsPath()
        let migrator = try Migrator(directory: migrationsPath, logger: logger)
        connectionString = try database.connectionString(logger: logger)
        connection = try PostgresConnection(connectionString)
        if migrate {
            let applied = try migrator.apply(on: connection)
            if !applied.isEmpty {
                logger.info("database schema updated", metadata: ["applied": "\(applied.map(\.fileName).joined(separator: ","))"])
            }
        }
    }

    /// Another connection to the same database (for the run ledger, which must outlive a rollback).
    func newConnection() throws -> PostgresConnection { try PostgresConnection(connectionString) }
}

/// The folder of query files.
struct QueryOptions: ParsableArguments {
    @Option(name: .customLong("queries-dir"), help: "Folder of .graphql query files (default: ./queries or the one beside the executable).")
    var queriesDirectory: String?
}
