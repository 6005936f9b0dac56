import Foundation
import Logging
import Postgres

/// The embedded default database: a private PostgreSQL cluster that shopbulk creates on first use,
/// starts when needed and reuses, listening on a Unix socket only (no TCP port).
///
/// Layout under the data folder (`--data-dir`, `SHOPBULK_HOME`, or the default below):
/// `pg/` the cluster, `run/` its socket, `postgres.log` the server log.
/// Default folder: `$XDG_DATA_HOME/shopbulk` (or `~/.local/share/shopbulk`); `/var/lib/shopbulk` when
/// running as root, because PostgreSQL refuses to run as root and runs there as the `postgres` user.
public struct LocalPostgres: Sendable {
    public var home: String
    public var logger: Logger
    public static let databaseName = "shopbulk"
    public static let userName = "shopbulk"
    static let port = 5432

    public init(home: String? = nil, logger: Logger = Logger(label: "shopbulk.localdb")) {
        self.home = home ?? Self.defaultHome()
        self.logger = logger
    }

    public static func defaultHome() -> String {
        let env = ProcessInfo.processInfo.environment
        if let explicit = env["SHOPBULK_HOME"], !explicit.isEmpty { return explicit }
        if getuid() == 0 { return "/var/lib/shopbulk" }
        if let xdg = env["XDG_DATA_HOME"], !xdg.isEmpty { return xdg + "/shopbulk" }
        return NSHomeDirectory() + "/.local/share/shopbulk"
    }

    var dataDirectory: String { home + "/pg" }
    var socketDirectory: String { home + "/run" }
    var logFile: String { home + "/postgres.log" }

    /// The libpq connection string for the embedded database.
    public var connectionString: String { connectionString(database: Self.databaseName) }

    /// The libpq connection string for another database of the embedded cluster.
    public func connectionString(database: String) -> String {
        "postgresql:///\(database)?host=\(socketDirectory)&port=\(Self.port)&user=\(Self.userName)"
    }

    /// Whether the cluster has been created.
    public var isInitialized: Bool { FileManager.default.fileExists(atPath: dataDirectory + "/PG_VERSION") }

    /// Creates the cluster if needed, starts it if it is not running, creates the database, and
    /// returns its connection string.
    @discardableResult
    public func ensureRunning() throws -> String {
        try withFileLock {
            if !isInitialized { try initialize() }
            if try !isRunning() { try start() }
            try ensureDatabase()
        }
        return connectionString
    }

    /// Whether the server is up (`pg_ctl status`).
    public func isRunning() throws -> Bool {
        guard isInitialized else { return false }
        let result = try runTool("pg_ctl", ["status", "-D", dataDirectory], allowFailure: true)
        return result.status == 0
    }

    /// Stops the server (fast shutdown); does nothing when it is not running.
    public func stop() throws {
        guard try isRunning() else { return }
        try runTool("pg_ctl", ["stop", "-D", dataDirectory, "-m", "fast", "-w"])
    }

    /// A one-line status for `shopbulk db status`.
    public func statusLine() throws -> String {
        if !isInitialized { return "not created (\(home)); `shopbulk db start` or any command creates it" }
        return try isRunning() ? "running (\(home), socket \(socketDirectory))" : "stopped (\(home))"
    }

    // MARK: - Steps

    func initialize() throws {
        logger.info("creating the local PostgreSQL cluster", metadata: ["dir": "\(dataDirectory)"])
        try prepareDirectories()
        try runTool(
            "initdb",
            [
                "-D", dataDirectory, "-U", Self.userName, "--auth=trust", "-E", "UTF8", "--no-locale", "--no-instructions",
            ])
        // Unix socket only, in our own folder; no TCP port that could clash with another server.
        let settings = """

            # shopbulk embedded cluster
            listen_addresses = ''
            unix_socket_directories = '\(socketDirectory)'
            unix_socket_permissions = 0700
            port = \(Self.port)
            max_connections = 40
            shared_buffers = 128MB
            logging_collector = off

            """
        let confPath = dataDirectory + "/postgresql.conf"
        // As root the file belongs to the postgres user; root may still append, and ownership stays.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: confPath))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(settings.utf8))
        try handle.close()
    }

    func prepareDirectories() throws {
        let fm = FileManager.default
        for dir in [home, socketDirectory] {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        if getuid() == 0 {
            // PostgreSQL refuses to run as root: hand the folder to the unprivileged `postgres` user.
            try runCommand("/bin/chown", ["-R", "postgres:postgres", home])
        }
    }

    func start() throws {
        logger.info("starting the local PostgreSQL server", metadata: ["dir": "\(dataDirectory)"])
        try prepareDirectories()
        try runTool("pg_ctl", ["start", "-D", dataDirectory, "-l", logFile, "-w", "-t", "60", "-s"])
    }

    func ensureDatabase() throws {
        let admin = "postgresql:///postgres?host=\(socketDirectory)&port=\(Self.port)&user=\(Self.userName)"
        let connection = try PostgresConnection(admin)
        let exists = try connection.query("SELECT 1 FROM pg_database WHERE datname = $1", [Self.databaseName], name: "find database")
        if exists.count == 0 {
            try connection.execute("CREATE DATABASE \(Self.databaseName)", name: "create database")
        }
    }

    // MARK: - Processes

    static func binDirectory() -> String {
        if let explicit = ProcessInfo.processInfo.environment["SHOPBULK_PG_BIN"], !explicit.isEmpty { return explicit }
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        if let newest = versions.last { return "\(root)/\(newest)/bin" }
        return "/usr/bin"
    }

    struct ToolResult {
        var status: Int32
        var output: String
    }

    /// Runs a PostgreSQL server tool, as the `postgres` user when we are root.
    @discardableResult
    func runTool(_ tool: String, _ arguments: [String], allowFailure: Bool = false) throws -> ToolResult {
        let path = Self.binDirectory() + "/" + tool
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw LocalPostgresError(
                message:
                    "\(path) not found: install PostgreSQL server binaries (Debian: apt-get install postgresql) or set SHOPBULK_PG_BIN to their folder, or give --database-url"
            )
        }
        if getuid() == 0 {
            return try runCommand("/usr/sbin/runuser", ["-u", "postgres", "--", path] + arguments, allowFailure: allowFailure)
        }
        return try runCommand(path, arguments, allowFailure: allowFailure)
    }

    /// Runs a program and waits for it with `waitpid`. Not Foundation's `Process`: it notices the end
    /// of a child through a descriptor the child inherits, and the server that `pg_ctl start` leaves
    /// running inherits it too, so the wait would last as long as the server.
    @discardableResult
    func runCommand(_ path: String, _ arguments: [String], allowFailure: Bool = false) throws -> ToolResult {
        let outputPath = NSTemporaryDirectory() + "shopbulk-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).out"
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else is passed on: the server pg_ctl leaves running must not hold our descriptors
        // (nor our parent's pipes), or whoever waits for them would wait for the server.
        Self.markDescriptorsCloseOnExec()
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid = pid_t()
        let rc = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard rc == 0 else {
            throw LocalPostgresError(message: "cannot start \(path): \(String(cString: strerror(rc)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else {
                throw LocalPostgresError(message: "waiting for \(path) failed: \(String(cString: strerror(errno)))")
            }
        }
        let exitStatus: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        if exitStatus != 0 && !allowFailure {
            let tool =
                arguments.first { $0.hasSuffix("/pg_ctl") || $0.hasSuffix("/initdb") }.map { ($0 as NSString).lastPathComponent }
                ?? (path as NSString).lastPathComponent
            throw LocalPostgresError(
                message:
                    "\(tool) \(arguments.filter { !$0.hasPrefix("/usr") && $0 != "-u" && $0 != "postgres" && $0 != "--" }.joined(separator: " ")) failed (exit \(exitStatus)): \(text.trimmingCharacters(in: .whitespacesAndNewlines)). See \(logFile)."
            )
        }
        return ToolResult(status: exitStatus, output: text)
    }

    /// Sets FD_CLOEXEC on every descriptor above 2 (listed in /proc/self/fd).
    static func markDescriptorsCloseOnExec() {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return }
        for entry in entries {
            guard let fd = Int32(entry), fd > 2 else { continue }
            let flags = fcntl(fd, F_GETFD)
            if flags >= 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
        }
    }

    /// Serialises cluster set-up between processes with `flock` on a file beside the cluster.
    func withFileLock<T>(_ body: () throws -> T) throws -> T {
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let fd = open(home + "/.shopbulk.lock", O_CREAT | O_RDWR, 0o600)
        guard fd >= 0 else {
            throw LocalPostgresError(message: "cannot create \(home)/.shopbulk.lock: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else {
            throw LocalPostgresError(message: "cannot lock \(home)/.shopbulk.lock: \(String(cString: strerror(errno)))")
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }
}

/// A failure managing the embedded cluster.
public struct LocalPostgresError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { "local PostgreSQL: \(message)" }
}

/// Finds the database to use: `--database-url`, then `DATABASE_URL`, then the embedded cluster.
public enum DatabaseLocator {
    public static func resolve(url: String?, dataDirectory: String?, logger: Logger) throws -> String {
        if let url, !url.isEmpty { return url }
        if let env = ProcessInfo.processInfo.environment["DATABASE_URL"], !env.isEmpty { return env }
        return try LocalPostgres(home: dataDirectory, logger: logger).ensureRunning()
    }
}
