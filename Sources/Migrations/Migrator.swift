import Logging
import Postgres

/// Applies `migrations/` to a database: under one advisory lock, each file in its own transaction,
/// recorded in `schema_migrations` with its SHA-256.
public struct Migrator: Sendable {
    public var migrations: [Migration]
    public var logger: Logger

    /// The advisory lock every migration run holds, so that two processes never migrate at once.
    public static let lockKey = PostgresConnection.advisoryKey("shopbulk.schema_migrations")

    public init(migrations: [Migration], logger: Logger = Logger(label: "shopbulk.migrations")) {
        self.migrations = migrations
        self.logger = logger
    }

    public init(directory: String, logger: Logger = Logger(label: "shopbulk.migrations")) throws(MigrationError) {
        self.init(migrations: try Migration.load(from: directory), logger: logger)
    }

    static let createTable = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version     integer PRIMARY KEY,
            name        text NOT NULL,
            checksum    text NOT NULL,
            applied_at  timestamptz NOT NULL DEFAULT now()
        )
        """

    /// Compares the files with the database without changing anything.
    public func plan(on connection: PostgresConnection) throws -> MigrationPlan {
        let exists = try connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present", name: "find schema_migrations")
        guard exists.first?["present"].bool == true else { return MigrationPlan(files: migrations, applied: []) }
        return MigrationPlan(files: migrations, applied: try appliedRows(connection))
    }

    func appliedRows(_ connection: PostgresConnection) throws -> [AppliedMigration] {
        try connection.query("SELECT version, name, checksum FROM schema_migrations ORDER BY version", name: "read schema_migrations")
            .map { row in
                AppliedMigration(
                    version: try row["version"].decode(Int.self), name: try row["name"].decode(String.self),
                    checksum: try row["checksum"].decode(String.self))
            }
    }

    /// Checks, without changing anything, that every file is applied unchanged: read-only commands
    /// work on the schema they were built for or stop. Throws `pending` naming the files to apply
    /// (`shopbulk migrate`), or `checksumChanged` naming an edited file.
    public func requireCurrent(on connection: PostgresConnection) throws {
        let plan = try plan(on: connection)
        if let (file, _) = plan.changed.first {
            throw MigrationError(
                code: .checksumChanged,
                message:
                    "migration \(file.fileName) was changed after it was applied: restore the file (applied migrations must not be edited) and add a new migration instead",
                file: file.fileName)
        }
        guard plan.pending.isEmpty else {
            let names = plan.pending.map(\.fileName)
            let count = names.count == 1 ? "1 pending migration" : "\(names.count) pending migrations"
            throw MigrationError(
                code: .pending,
                message:
                    "the database has \(count) (\(names.joined(separator: ", "))): run `shopbulk migrate` to apply \(names.count == 1 ? "it" : "them") first; this command does not change the schema",
                file: names.first)
        }
    }

    /// Applies every pending file in version order and returns those it applied. Idempotent: a second
    /// run applies nothing. Stops before applying anything when an applied file's checksum changed.
    @discardableResult
    public func apply(on connection: PostgresConnection) throws -> [Migration] {
        try connection.withAdvisoryLock(Self.lockKey) {
            try connection.execute(Self.createTable, name: "create schema_migrations")
            let plan = MigrationPlan(files: migrations, applied: try appliedRows(connection))
            if let (file, recorded) = plan.changed.first {
                throw MigrationError(
                    code: .checksumChanged,
                    message:
                        "migration \(file.fileName) was changed after it was applied (recorded checksum \(recorded.checksum.prefix(12))…, file now \(file.checksum.prefix(12))…). Applied migrations must not be edited: restore the file and add a new migration instead.",
                    file: file.fileName)
            }
            for unknown in plan.unknown {
                logger.warning(
                    "database has a migration this shopbulk does not know",
                    metadata: ["version": "\(unknown.version)", "name": "\(unknown.name)"])
            }
            var done: [Migration] = []
            for migration in plan.pending {
                logger.info("applying migration", metadata: ["file": "\(migration.fileName)"])
                do {
                    try connection.transaction {
                        try connection.execute(migration.sql, name: migration.fileName)
                        try connection.query(
                            "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                            [migration.version, migration.name, migration.checksum], name: "record migration")
                    }
                } catch let error as PostgresError {
                    throw MigrationError(
                        code: .failed, message: "migration \(migration.fileName) failed and was rolled back: \(error)",
                        file: migration.fileName)
                }
                done.append(migration)
            }
            return done
        }
    }
}
