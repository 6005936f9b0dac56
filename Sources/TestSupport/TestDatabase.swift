import Foundation
import Postgres

/// A fresh, empty database on the test cluster that `scripts/test` starts, dropped when the test ends.
///
/// The cluster's admin URL comes from `SHOPBULK_TEST_DATABASE_URL`. Without it, tests that need
/// PostgreSQL fail under `CI=true` and are skipped elsewhere (see `TestEnvironment`).
public final class TestDatabase: @unchecked Sendable {
    public let name: String
    public let url: String
    let adminURL: String

    /// A database on the test cluster, or on the cluster `adminURL` names (a test's private one).
    public init(adminURL given: String? = nil, function: String = #function) throws {
        guard let admin = given ?? TestEnvironment.adminDatabaseURL else {
            throw TestEnvironmentError(message: "SHOPBULK_TEST_DATABASE_URL is not set: run the tests through scripts/test")
        }
        adminURL = admin
        let slug = function.lowercased().filter { $0.isLetter || $0.isNumber }.prefix(30)
        name = "t_\(slug)_\(UInt32.random(in: 0...UInt32.max))"
        let connection = try PostgresConnection(admin)
        try connection.execute("CREATE DATABASE \(name)", name: "create test database")
        url = TestDatabase.replacingDatabase(in: admin, with: name)
        connection.close()
    }

    /// A new connection to this database.
    public func connect() throws -> PostgresConnection { try PostgresConnection(url) }

    deinit {
        if let connection = try? PostgresConnection(adminURL) {
            _ = try? connection.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", name: "drop test database")
        }
    }

    static func replacingDatabase(in url: String, with database: String) -> String {
        // postgresql://user@host:port/dbname[?params]
        guard let schemeEnd = url.range(of: "://") else { return url + " dbname=\(database)" }
        let rest = url[schemeEnd.upperBound...]
        let query = rest.firstIndex(of: "?").map { String(rest[$0...]) } ?? ""
        let beforeQuery = rest.firstIndex(of: "?").map { rest[..<$0] } ?? rest
        let authority = beforeQuery.firstIndex(of: "/").map { beforeQuery[..<$0] } ?? beforeQuery
        return url[..<schemeEnd.upperBound] + authority + "/" + database + query
    }
}

/// What the test environment provides.
public enum TestEnvironment {
    public static var adminDatabaseURL: String? {
        ProcessInfo.processInfo.environment["SHOPBULK_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Whether this is CI, where missing services are failures rather than skips.
    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// Whether tests that need PostgreSQL should run: always under CI (they then fail loudly when the
    /// database is missing), elsewhere only when `scripts/test` provided one.
    public static var databaseTestsEnabled: Bool { isCI || adminDatabaseURL != nil }

    /// The `shopbulk` executable built for the tests.
    public static var shopbulkBinary: String {
        if let explicit = ProcessInfo.processInfo.environment["SHOPBULK_BIN"], !explicit.isEmpty { return explicit }
        return packageRoot + "/.build/debug/shopbulk"
    }

    /// The package's root folder (for `migrations/`, `queries/`).
    public static var packageRoot: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }
}

public struct TestEnvironmentError: Error, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// Runs a program (in `currentDirectory`, else ours) and returns its exit status, stdout and stderr.
public func runProcess(
    _ path: String, _ arguments: [String], environment: [String: String]? = nil, currentDirectory: String? = nil
) throws -> (
    status: Int32, stdout: String, stderr: String
) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if let environment { process.environment = environment }
    if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory, isDirectory: true) }
    let dir = NSTemporaryDirectory() + "sbproc-\(UInt64.random(in: 0...UInt64.max))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    FileManager.default.createFile(atPath: dir + "/out", contents: nil)
    FileManager.default.createFile(atPath: dir + "/err", contents: nil)
    let out = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/out"))
    let err = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/err"))
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    try? out.close()
    try? err.close()
    return (
        process.terminationStatus, (try? String(contentsOfFile: dir + "/out", encoding: .utf8)) ?? "",
        (try? String(contentsOfFile: dir + "/err", encoding: .utf8)) ?? ""
    )
}

/// Runs a program that may leave a daemon behind (`pg_ctl start`) and waits for it with `waitpid`;
/// its output goes to `outputFile`. Foundation's `Process` would wait on a descriptor the daemon
/// inherits, that is for as long as the daemon runs.
public func runDaemonizing(_ path: String, _ arguments: [String], outputFile: String) throws -> (status: Int32, output: String) {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outputFile, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    if let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
        for entry in entries {
            guard let fd = Int32(entry), fd > 2 else { continue }
            let flags = fcntl(fd, F_GETFD)
            if flags >= 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
        }
    }
    let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    var pid = pid_t()
    let rc = posix_spawn(&pid, path, &actions, nil, argv, environ)
    guard rc == 0 else { throw TestEnvironmentError(message: "cannot start \(path): \(String(cString: strerror(rc)))") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
        guard errno == EINTR else { throw TestEnvironmentError(message: "waitpid failed: \(String(cString: strerror(errno)))") }
    }
    let exit: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return (exit, (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? "")
}

/// The real Admin API schemas (SDL) in the shared test data beside the repository
/// (`../shared/testdata/shopify-admin-schema/`); never copied into the repository.
public enum SharedAdminSchemas {
    /// The API versions there is an SDL file for.
    public static let versions = ["2025-07", "2026-01", "2026-04"]

    /// The folder, relative to the package (`../shared/testdata/shopify-admin-schema`).
    public static var directory: String {
        URL(fileURLWithPath: TestEnvironment.packageRoot).deletingLastPathComponent()
            .appendingPathComponent("shared/testdata/shopify-admin-schema").path
    }

    /// The SDL file of `version` (`admin-2026-01.graphql`); throws when it is missing, so that a test
    /// needing it fails rather than passing vacuously.
    public static func path(_ version: String) throws -> String {
        let path = directory + "/admin-\(version).graphql"
        guard FileManager.default.fileExists(atPath: path) else {
            throw TestEnvironmentError(message: "the shared Admin API schema \(path) is missing (tests read it from ../shared/testdata)")
        }
        return path
    }
}
