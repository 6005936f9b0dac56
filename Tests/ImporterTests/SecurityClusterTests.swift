import Foundation
import Logging
import Postgres
import TestSupport
import Testing
import TrustedFiles

@testable import EmbeddedPostgres
@testable import Importer

#if canImport(Glibc)
    import Glibc
#endif

/// Log lines kept for assertions.
final class SecurityLogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    var text: String { lock.lock(); defer { lock.unlock() }; return lines.joined(separator: "\n") }
    func append(_ line: String) { lock.lock(); lines.append(line); lock.unlock() }

    var logger: Logger {
        let capture = self
        var logger = Logger(label: "security-test") { _ in SecurityLogHandler(capture: capture) }
        logger.logLevel = .debug
        return logger
    }
}

struct SecurityLogHandler: LogHandler {
    let capture: SecurityLogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        let meta = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        capture.append("\(event.level) \(event.message) \(meta)")
    }
}

private func mode(_ path: String) -> mode_t? {
    var st = stat()
    guard lstat(path, &st) == 0 else { return nil }
    return st.st_mode & 0o7777
}

private func owner(_ path: String) -> uid_t? {
    var st = stat()
    guard lstat(path, &st) == 0 else { return nil }
    return st.st_uid
}

/// The user the embedded cluster runs as here: postgres under root, else us.
private var clusterUser: (uid: uid_t, gid: gid_t, name: String) {
    if geteuid() == 0, let pw = getpwnam("postgres") { return (pw.pointee.pw_uid, pw.pointee.pw_gid, "postgres") }
    return (geteuid(), getegid(), FileOwner.userName(geteuid()))
}

@Suite("Security: the embedded cluster's folders are checked on every start", .serialized)
struct SecurityClusterTests {
    @Test("a folder shopbulk did not create is refused, and nothing in it is chowned")
    func foreignHome() throws {
        // /tmp belongs to root, never to the cluster's user (postgres under root, else us).
        let tmpOwner = FileOwner.userName(owner("/tmp") ?? 0)
        let local = LocalPostgres(home: "/tmp", logger: SecurityLogCapture().logger)
        let user = clusterUser.name
        #expect(throws: LocalPostgresError.self) { try local.ensureRunning() }
        do {
            try local.ensureRunning()
        } catch let error as LocalPostgresError {
            #expect(
                error.message
                    == "the folder /tmp belongs to \(tmpOwner), not to \(user), and shopbulk did not create it: it will not put the cluster there. Give --data-dir a folder that does not exist yet (shopbulk creates it), or hand this one over: chown \(user): /tmp && chmod 700 /tmp"
            )
        }
        #expect(owner("/tmp") == 0)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/.shopbulk.lock") || owner("/tmp/.shopbulk.lock") != clusterUser.uid)
    }

    @Test("a folder of the cluster's user that shopbulk did not create is not opened up or taken over")
    func ownedButNotOurs() throws {
        let parent = try SecurityCLI.temporaryFolder("home")
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let home = parent + "/mine"
        #expect(mkdir(home, 0o755) == 0)
        #expect(chmod(home, 0o755) == 0)
        if geteuid() == 0 { #expect(chown(home, clusterUser.uid, clusterUser.gid) == 0) }
        let local = LocalPostgres(home: home, logger: SecurityLogCapture().logger)
        do {
            try local.ensureRunning()
            Issue.record("ensureRunning accepted a folder open to others that shopbulk did not create")
        } catch let error as LocalPostgresError {
            #expect(
                error.message
                    == "the folder \(home) is open to other users (mode 755) and shopbulk did not create it: it will not put the cluster there. Make it private (chmod 700 \(home)) or give --data-dir a folder that does not exist yet"
            )
        }
        #expect(mode(home) == 0o755)
        #expect(try FileManager.default.contentsOfDirectory(atPath: home).isEmpty)
    }

    @Test("a socket folder of another user is refused with the path and what to do", .enabled(if: geteuid() == 0))
    func foreignSocketFolder() throws {
        let parent = try SecurityCLI.temporaryFolder("home")
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let home = parent + "/sb"
        let local = LocalPostgres(home: home, logger: SecurityLogCapture().logger)
        try local.secureHome()
        // Another user (here root, not postgres) made run/ and left it open.
        #expect(mkdir(home + "/run", 0o777) == 0)
        #expect(chmod(home + "/run", 0o777) == 0)
        do {
            try local.ensureRunning()
            Issue.record("ensureRunning used a socket folder of another user")
        } catch let error as LocalPostgresError {
            #expect(
                error.message
                    == "the socket folder \(home)/run belongs to root, not to postgres, and shopbulk did not create it: another user could read or replace what is in it. Check who made it, then hand it over (chown -R postgres: \(home)/run && chmod 700 \(home)/run) or remove it"
            )
        }
        #expect(mode(home + "/run") == 0o777)
        #expect(!FileManager.default.fileExists(atPath: home + "/pg"))
    }

    @Test(
        "a 0777 socket folder of a running cluster is made 0700 before the socket is used; the server logs no row values",
        .enabled(if: TestEnvironment.databaseTestsEnabled))
    func looseSocketFolderIsFixed() throws {
        let parent = try SecurityCLI.temporaryFolder("cluster")
        let home = parent + "/sb"
        let capture = SecurityLogCapture()
        let local = LocalPostgres(home: home, logger: capture.logger)
        defer {
            try? local.stop()
            try? FileManager.default.removeItem(atPath: parent)
        }
        try local.ensureRunning()
        #expect(mode(home) == 0o700)
        #expect(mode(home + "/run") == 0o700)
        #expect(owner(home) == clusterUser.uid)
        #expect(owner(home + "/run") == clusterUser.uid)
        // Only what shopbulk created was handed over: the parent folder is still ours.
        #expect(owner(parent) == geteuid())

        // Someone widened the socket folder while the server runs.
        #expect(chmod(home + "/run", 0o777) == 0)
        #expect(chmod(home, 0o755) == 0)
        try local.ensureRunning()
        #expect(mode(home + "/run") == 0o700)
        #expect(mode(home) == 0o700)
        #expect(
            capture.text.contains("warning the socket folder was open to other users; made it private mode=777 now=700 path=\(home)/run"))
        #expect(capture.text.contains("warning the folder was open to other users; made it private mode=755 now=700 path=\(home)"))

        // A row value in a failing statement never reaches the server log.
        let connection = try PostgresConnection(local.connectionString)
        try connection.execute("CREATE TABLE leak (email text PRIMARY KEY)", name: "create")
        try connection.execute("INSERT INTO leak VALUES ('row-value-7f3a@example.com')", name: "insert")
        #expect(throws: PostgresError.self) {
            try connection.execute("INSERT INTO leak VALUES ('row-value-7f3a@example.com')", name: "insert again")
        }
        #expect(try connection.query("SHOW log_error_verbosity").first?[0].string == "terse")
        #expect(try connection.query("SHOW log_min_error_statement").first?[0].string == "panic")
        #expect(try connection.query("SHOW logging_collector").first?[0].string == "on")
        let logs = (try? FileManager.default.contentsOfDirectory(atPath: home + "/pg/log")) ?? []
        #expect(!logs.isEmpty)
        var logged = (try? String(contentsOfFile: home + "/postgres.log", encoding: .utf8)) ?? ""
        for file in logs { logged += (try? String(contentsOfFile: home + "/pg/log/" + file, encoding: .utf8)) ?? "" }
        #expect(logged.contains("duplicate key value violates unique constraint"))
        #expect(!logged.contains("row-value-7f3a"))
    }

    @Test("tool output comes through a pipe: no temporary file")
    func toolOutputThroughPipe() throws {
        let local = LocalPostgres(home: "/nonexistent-shopbulk-home", logger: SecurityLogCapture().logger)
        let before = Set((try? FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())) ?? [])
        let result = try local.runCommand("/bin/sh", ["-c", "echo out; echo err >&2; exit 3"], allowFailure: true)
        #expect(result.status == 3)
        #expect(result.output == "out\nerr\n")
        let after = Set((try? FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())) ?? [])
        #expect(after.subtracting(before).filter { $0.hasPrefix("shopbulk-\(getpid())-") }.isEmpty)
    }
}
