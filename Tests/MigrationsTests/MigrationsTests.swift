import Foundation
import Migrations
import Postgres
import TestSupport
import Testing

/// Writes migration files into a fresh temporary folder.
func migrationFolder(_ files: [String: String]) throws -> String {
    let dir = NSTemporaryDirectory() + "sbmig-\(UInt64.random(in: 0...UInt64.max))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    for (name, sql) in files { try sql.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }
    return dir
}

@Suite("Migration plan (pure)")
struct MigrationPlanTests {
    @Test("file names follow NNNN_name.sql")
    func fileNames() throws {
        #expect(throws: MigrationError.self) { try Migration.load(from: try migrationFolder(["1_bad.sql": "SELECT 1"])) }
        #expect(throws: MigrationError.self) {
            try Migration.load(from: try migrationFolder(["0001_a.sql": "SELECT 1", "0001_b.sql": "SELECT 2"]))
        }
        let loaded = try Migration.load(from: try migrationFolder(["0002_b.sql": "SELECT 2", "0001_a.sql": "SELECT 1", "README": "x"]))
        #expect(loaded.map(\.version) == [1, 2])
        #expect(loaded[0].checksum.count == 64)
    }

    @Test("the plan sorts files into applied, pending, changed and unknown")
    func plan() {
        let a = Migration(version: 1, name: "a", sql: "SELECT 1", fileName: "0001_a.sql")
        let b = Migration(version: 2, name: "b", sql: "SELECT 2", fileName: "0002_b.sql")
        let c = Migration(version: 3, name: "c", sql: "SELECT 3", fileName: "0003_c.sql")
        let plan = MigrationPlan(
            files: [a, b, c],
            applied: [
                AppliedMigration(version: 1, name: "a", checksum: a.checksum),
                AppliedMigration(version: 2, name: "b", checksum: "0000"),
                AppliedMigration(version: 9, name: "future", checksum: "x"),
            ])
        #expect(plan.applied == [a])
        #expect(plan.changed.map(\.file) == [b])
        #expect(plan.pending == [c])
        #expect(plan.unknown.map(\.version) == [9])
    }
}

@Suite("Migrations against the real server", .enabled(if: TestEnvironment.databaseTestsEnabled))
struct MigrationsDatabaseTests {
    @Test("the project's migrations apply once and are idempotent")
    func projectMigrations() throws {
        let db = try TestDatabase()
        let c = try db.connect()
        let migrator = try Migrator(directory: TestEnvironment.packageRoot + "/migrations")
        let first = try migrator.apply(on: c)
        #expect(first.count == migrator.migrations.count)
        #expect(try migrator.apply(on: c).isEmpty)
        let plan = try migrator.plan(on: c)
        #expect(plan.pending.isEmpty && plan.changed.isEmpty && plan.applied.count == migrator.migrations.count)
        for table in ["shops", "customers", "orders", "order_lines", "sync_runs", "sync_state", "rejected_records", "bulk_records"] {
            #expect(try c.query("SELECT to_regclass($1) IS NOT NULL AS ok", [table]).first?["ok"].bool == true, "table \(table)")
        }
    }

    @Test("a changed checksum stops the run with an error naming the file")
    func changedChecksum() throws {
        let db = try TestDatabase()
        let c = try db.connect()
        let dir = try migrationFolder(["0001_a.sql": "CREATE TABLE a (x int);"])
        try Migrator(directory: dir).apply(on: c)
        try "CREATE TABLE a (x bigint);".write(toFile: dir + "/0001_a.sql", atomically: true, encoding: .utf8)
        try "CREATE TABLE b (x int);".write(toFile: dir + "/0002_b.sql", atomically: true, encoding: .utf8)
        #expect {
            try Migrator(directory: dir).apply(on: c)
        } throws: { error in
            let e = try #require(error as? MigrationError)
            return e.code == .checksumChanged && e.description.contains("0001_a.sql")
        }
        // Nothing after the changed file was applied.
        #expect(try c.query("SELECT to_regclass('b') IS NULL AS absent").first?["absent"].bool == true)
    }

    @Test("a failing file is rolled back whole and not recorded")
    func failingFile() throws {
        let db = try TestDatabase()
        let c = try db.connect()
        let dir = try migrationFolder([
            "0001_a.sql": "CREATE TABLE a (x int);", "0002_b.sql": "CREATE TABLE b (x int); SELECT nonsense_column FROM a;",
        ])
        #expect(throws: MigrationError.self) { try Migrator(directory: dir).apply(on: c) }
        #expect(try c.query("SELECT to_regclass('b') IS NULL AS absent").first?["absent"].bool == true)
        #expect(try c.query("SELECT count(*) AS n FROM schema_migrations").first?["n"].int == 1)
    }

    @Test("four concurrent `shopbulk migrate` processes end with one applied set and no error")
    func concurrentProcesses() async throws {
        let db = try TestDatabase()
        let binary = TestEnvironment.shopbulkBinary
        let migrations = TestEnvironment.packageRoot + "/migrations"
        let url = db.url
        let results = try await withThrowingTaskGroup(of: (Int32, String).self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let r = try runProcess(binary, ["migrate", "--database-url", url, "--migrations-dir", migrations])
                    return (r.status, r.stderr)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for (status, stderr) in results { #expect(status == 0, "stderr: \(stderr)") }
        let c = try db.connect()
        let count = try c.query("SELECT count(*) AS n, count(DISTINCT version) AS d FROM schema_migrations").first!
        let files = try Migration.load(from: migrations).count
        #expect(count["n"].int == files)
        #expect(count["d"].int == files)
    }
}

@Suite("shopbulk migrate exit codes")
struct MigrateCommandTests {
    @Test("an unreachable database exits 1, names the host, hides the password")
    func unreachable() throws {
        let r = try runProcess(
            TestEnvironment.shopbulkBinary,
            [
                "migrate", "--database-url", "postgresql://bob:Sup3rSecretPw@127.0.0.1:1/x?connect_timeout=3", "--migrations-dir",
                TestEnvironment.packageRoot + "/migrations",
            ])
        #expect(r.status == 1)
        #expect(r.stderr.contains("127.0.0.1"))
        #expect(!r.stderr.contains("Sup3rSecretPw"))
    }

    @Test("a usage error exits 2")
    func usage() throws {
        let r = try runProcess(TestEnvironment.shopbulkBinary, ["migrate", "--no-such-flag"])
        #expect(r.status == 2)
    }
}

@Suite("The embedded local PostgreSQL cluster", .enabled(if: TestEnvironment.databaseTestsEnabled))
struct EmbeddedClusterTests {
    @Test("db start creates and starts a private cluster, migrate uses it, db stop stops it")
    func lifecycle() throws {
        let home = NSTemporaryDirectory() + "sbhome-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: home) }
        var environment = ProcessInfo.processInfo.environment
        environment["SHOPBULK_HOME"] = home
        environment["DATABASE_URL"] = nil
        let bin = TestEnvironment.shopbulkBinary
        let migrations = TestEnvironment.packageRoot + "/migrations"
        defer { _ = try? runProcess(bin, ["db", "stop"], environment: environment) }
        let start = try runProcess(bin, ["db", "start", "--log-level", "warning"], environment: environment)
        #expect(start.status == 0, "stderr: \(start.stderr)")
        #expect(start.stdout.contains("running"))
        let url = try runProcess(bin, ["db", "url"], environment: environment)
        #expect(url.stdout.contains("host=\(home)/run"))
        let migrate = try runProcess(bin, ["migrate", "--migrations-dir", migrations, "--log-level", "warning"], environment: environment)
        #expect(migrate.status == 0, "stderr: \(migrate.stderr)")
        // A second start reuses the running cluster.
        #expect(try runProcess(bin, ["db", "start"], environment: environment).status == 0)
        let stop = try runProcess(bin, ["db", "stop"], environment: environment)
        #expect(stop.status == 0 && stop.stdout.contains("stopped"))
        #expect(try runProcess(bin, ["db", "status"], environment: environment).stdout.contains("stopped"))
    }
}
