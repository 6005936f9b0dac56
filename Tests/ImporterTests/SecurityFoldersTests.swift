import Dispatch
import Foundation
import Importer
import Migrations
import Postgres
import TestSupport
import Testing

/// Runs the built `shopbulk` exactly as given: no `--migrations-dir` added, in `currentDirectory`,
/// with the caller's environment changes (and without DATABASE_URL / SHOPBULK_*_DIR from outside).
enum SecurityCLI {
    static func run(_ arguments: [String], environment: [String: String] = [:], in currentDirectory: String? = nil) async throws
        -> ShopbulkCLI.Result
    {
        var env = ProcessInfo.processInfo.environment
        env["SHOPBULK_LOG_LEVEL"] = "warning"
        for key in ["DATABASE_URL", "SHOPBULK_MIGRATIONS_DIR", "SHOPBULK_QUERIES_DIR", "http_proxy", "HTTP_PROXY", "https_proxy"] {
            env.removeValue(forKey: key)
        }
        for (k, v) in environment { env[k] = v }
        let binary = TestEnvironment.shopbulkBinary
        let finalEnv = env
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                do {
                    let r = try runProcess(binary, arguments, environment: finalEnv, currentDirectory: currentDirectory)
                    continuation.resume(returning: ShopbulkCLI.Result(status: r.status, stdout: r.stdout, stderr: r.stderr))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// A new empty folder under the temporary directory (mode 0755), removed by the caller.
    static func temporaryFolder(_ tag: String) throws -> String {
        let dir = NSTemporaryDirectory() + "shopbulk-\(tag)-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        chmod(dir, 0o755)
        return dir
    }

    /// A copy of the package's migrations in `folder`, plus `extra` files.
    static func migrationsCopy(in folder: String, extra: [String: String] = [:]) throws {
        let source = TestEnvironment.packageRoot + "/migrations"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        chmod(folder, 0o755)
        for file in try FileManager.default.contentsOfDirectory(atPath: source) where file.hasSuffix(".sql") {
            try FileManager.default.copyItem(atPath: source + "/" + file, toPath: folder + "/" + file)
        }
        for (name, sql) in extra { try sql.write(toFile: folder + "/" + name, atomically: false, encoding: .utf8) }
    }

    static func migrate(_ db: TestDatabase) throws {
        try Migrator(directory: TestEnvironment.packageRoot + "/migrations").apply(on: db.connect())
    }
}

@Suite(
    "Security: migrations and queries come from the installed folders only", .serialized, .enabled(if: TestEnvironment.databaseTestsEnabled)
)
struct SecurityFoldersTests {
    @Test("a migration planted in the working directory is never applied; shop list only reads")
    func plantedMigrationInWorkingDirectory() async throws {
        let db = try TestDatabase()
        try SecurityCLI.migrate(db)
        _ = try ShopStore(connection: db.connect()).add(
            Shop(name: "halo", storeDomain: "halo.myshopify.com", authMethod: .token, tokenRef: "env:T"))
        let work = try SecurityCLI.temporaryFolder("planted")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let marker = NSTemporaryDirectory() + "shopbulk-planted-ran-\(UInt64.random(in: 0...UInt64.max))"
        defer { unlink(marker) }
        try SecurityCLI.migrationsCopy(
            in: work + "/migrations",
            extra: [
                "9990_zz.sql": """
                COPY (SELECT 1) TO PROGRAM 'id > \(marker)';
                UPDATE shops SET api_base = 'https://attacker.invalid';
                """
            ])
        // A query file planted there is not used either.
        try FileManager.default.createDirectory(atPath: work + "/queries", withIntermediateDirectories: true)
        try "{ shop { name } }".write(toFile: work + "/queries/orders.graphql", atomically: false, encoding: .utf8)

        let list = try await SecurityCLI.run(["shop", "list", "--database-url", db.url], in: work)
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains("halo  halo.myshopify.com  token env:T"))
        let migrate = try await SecurityCLI.run(["migrate", "--database-url", db.url], in: work)
        #expect(migrate.status == 0, "\(migrate.stderr)")
        #expect(migrate.stdout.hasPrefix("Database is up to date ("), "\(migrate.stdout)")

        let connection = try db.connect()
        #expect(try connection.query("SELECT count(*) AS n FROM schema_migrations WHERE version = 9990").first?["n"].int == 0)
        #expect(try connection.query("SELECT api_base FROM shops WHERE name = 'halo'").first?["api_base"].string == nil)
        #expect(!FileManager.default.fileExists(atPath: marker), "the planted migration ran a shell command")

        let check = try await SecurityCLI.run(["query", "check", "orders"], in: work)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let installed = TestEnvironment.packageRoot + "/queries/orders.graphql"
        #expect(check.stdout.hasPrefix("\(installed): passes the bulk rules"), "\(check.stdout.prefix(200))")
        // A query file given by path is used as given.
        let byPath = try await SecurityCLI.run(["query", "check", "queries/orders.graphql"], in: work)
        #expect(byPath.status == 1)
        #expect(byPath.stdout.hasPrefix("queries/orders.graphql:"), "\(byPath.stdout.prefix(200))")
    }

    @Test("read-only commands on a database with pending migrations say so and stop; migrate applies them")
    func pendingMigrationsStopReadOnlyCommands() async throws {
        let db = try TestDatabase()
        try SecurityCLI.migrate(db)
        let folder = try SecurityCLI.temporaryFolder("pending")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try SecurityCLI.migrationsCopy(in: folder, extra: ["9991_extra.sql": "CREATE TABLE security_extra (x int);"])
        let expected =
            "Error: the database has 1 pending migration (9991_extra.sql): run `shopbulk migrate` to apply it first; this command does not change the schema\n"
        let commands: [[String]] = [
            ["status"], ["lookup", "halo", "--email", "ann@example.com"], ["shop", "list"], ["shop", "list", "--json"],
            ["shop", "add", "x", "--store", "halo", "--token-env", "T", "--no-verify"], ["shop", "disable", "x"], ["cancel", "x"],
        ]
        for command in commands {
            let r = try await SecurityCLI.run(command + ["--database-url", db.url, "--migrations-dir", folder])
            #expect(r.status == 1, "\(command): \(r.stderr)")
            #expect(r.stderr == expected, "\(command)")
            #expect(r.stdout.isEmpty, "\(command)")
        }
        // SHOPBULK_MIGRATIONS_DIR names the folder just as well.
        let viaEnvironment = try await SecurityCLI.run(
            ["status", "--database-url", db.url], environment: ["SHOPBULK_MIGRATIONS_DIR": folder])
        #expect(viaEnvironment.status == 1)
        #expect(viaEnvironment.stderr == expected)
        #expect(try db.connect().query("SELECT to_regclass('security_extra') IS NULL AS absent").first?["absent"].bool == true)

        let migrate = try await SecurityCLI.run(["migrate", "--database-url", db.url, "--migrations-dir", folder])
        #expect(migrate.status == 0, "\(migrate.stderr)")
        #expect(migrate.stdout == "applied  9991_extra.sql\n")
        let status = try await SecurityCLI.run(["status", "--database-url", db.url, "--migrations-dir", folder])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout == "No shops yet; add one with `shopbulk shop add`.\n")
    }

    @Test("a migrations folder other users may write to is refused, naming the fix")
    func worldWritableMigrationsFolder() async throws {
        let db = try TestDatabase()
        let folder = try SecurityCLI.temporaryFolder("loose")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try SecurityCLI.migrationsCopy(in: folder)
        #expect(chmod(folder, 0o777) == 0)
        let r = try await SecurityCLI.run(["migrate", "--database-url", db.url, "--migrations-dir", folder])
        #expect(r.status == 1)
        #expect(
            r.stderr
                == "Error: the migrations folder \(folder) is writable by others (mode 777): another user could change what shopbulk runs. Fix it with chmod go-w \(folder).\n"
        )
        #expect(try db.connect().query("SELECT to_regclass('schema_migrations') IS NULL AS absent").first?["absent"].bool == true)

        // A world-writable file in a private folder is refused the same way.
        #expect(chmod(folder, 0o755) == 0)
        let file = folder + "/0001_shops.sql"
        #expect(chmod(file, 0o666) == 0)
        let byFile = try await SecurityCLI.run(["migrate", "--database-url", db.url, "--migrations-dir", folder])
        #expect(byFile.status == 1)
        #expect(
            byFile.stderr
                == "Error: the file \(file) of the migrations folder is writable by others (mode 666): another user could change what shopbulk runs. Fix it with chmod go-w \(file).\n"
        )
    }
}
