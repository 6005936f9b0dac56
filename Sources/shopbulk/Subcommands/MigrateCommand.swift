import ArgumentParser
import Importer
import Migrations
import Postgres

/// `shopbulk migrate`: apply pending migrations, or show their status.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the pending database migrations (idempotent), or show their status with --status.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    @Flag(help: "Show applied, pending, changed and unknown migrations; change nothing.")
    var status = false

    func run() async throws {
        let logger = output.makeLogger()
        let migrator = try Migrator(directory: try database.migrationsPath(), logger: logger)
        let connection = try PostgresConnection(try database.connectionString(logger: logger))
        if status {
            let plan = try migrator.plan(on: connection)
            if output.json {
                printJSON(MigrateStatusReport(plan))
            } else {
                for m in plan.applied { print("applied  \(m.fileName)") }
                for c in plan.changed { print("CHANGED  \(c.file.fileName)  (edited after it was applied)") }
                for m in plan.pending { print("pending  \(m.fileName)") }
                for u in plan.unknown { print("unknown  version \(u.version) \(u.name) (in the database, no file)") }
            }
            if !plan.changed.isEmpty { throw ExitCode(1) }
            return
        }
        let applied = try migrator.apply(on: connection)
        if output.json {
            printJSON(MigrateReport(applied: applied.map(\.fileName)))
        } else if applied.isEmpty {
            print("Database is up to date (\(migrator.migrations.count) migrations).")
        } else {
            for m in applied { print("applied  \(m.fileName)") }
        }
    }
}
