import Foundation
import Logging
import Postgres
import TrustedFiles

/// The embedded default database: a private PostgreSQL cluster that shopbulk creates on first use,
/// starts when needed and reuses, listening on a Unix socket only (no TCP port).
///
/// Layout under the data folder (`--data-dir`, `SHOPBULK_HOME`, or the default below):
/// `pg/` the cluster (its log in `pg/log/`), `run/` its socket, `postgres.log` the start-up log. All
/// of them belong to the cluster's user with mode 0700, checked before every use.
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

    /// Starts the cluster if needed and creates `name` afresh in it (dropping any database of that
    /// name, its sessions ended); returns its connection string.
    public func freshDatabase(_ name: String) throws -> String {
        let admin = try PostgresConnection(try ensureRunning())
        defer { admin.close() }
        let quoted = "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        try admin.execute("DROP DATABASE IF EXISTS \(quoted) WITH (FORCE)", name: "drop database \(name)")
        try admin.execute("CREATE DATABASE \(quoted)", name: "create database \(name)")
        return connectionString(database: name)
    }

    /// Whether the cluster has been created.
    public var isInitialized: Bool { FileManager.default.fileExists(atPath: dataDirectory + "/PG_VERSION") }

    /// Creates the cluster if needed, starts it if it is not running, creates the database, and
    /// returns its connection string.
    ///
    /// Every time, before the socket is trusted, the home, data and socket folders are checked (see
    /// `secureFolders()`).
    @discardableResult
    public func ensureRunning() throws -> String {
        try secureHome()
        try withFileLock {
            try secureFolders()
            if !isInitialized { try initialize() }
            if try !isRunning() { try start() }
            try secureSocketFolder()
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
        guard isInitialized else { return }
        try secureHome()
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
        try runTool(
            "initdb",
            [
                "-D", dataDirectory, "-U", Self.userName, "--auth=trust", "-E", "UTF8", "--no-locale", "--no-instructions",
            ])
        // Unix socket only, in our own folder; no TCP port that could clash with another server.
        let settings = """

            # shopbulk embedded cluster
            listen_addresses = ''
            unix_socket_directories = '\(Self.confQuoted(socketDirectory))'
            unix_socket_permissions = 0700
            port = \(Self.port)
            max_connections = 40
            shared_buffers = 128MB

            """
        try appendToConf(settings)
    }

    /// The marker of the logging settings in `postgresql.conf`.
    static let loggingMarker = "# shopbulk logging (v2)"

    /// No row values in the server log (no DETAIL/CONTEXT lines, no statements or their parameters), and
    /// a log that is rotated: one file per hour of the day in `pg/log/`, overwritten a day later.
    static let loggingSettings = """

        \(loggingMarker)
        log_error_verbosity = terse
        log_min_error_statement = panic
        log_statement = 'none'
        log_min_duration_statement = -1
        log_parameter_max_length = 0
        log_parameter_max_length_on_error = 0
        logging_collector = on
        log_directory = 'log'
        log_filename = 'postgresql-%H.log'
        log_file_mode = 0600
        log_rotation_age = 60
        log_rotation_size = 0
        log_truncate_on_rotation = on

        """

    /// Adds the logging settings to a cluster that lacks them (new, or created by an older shopbulk).
    func ensureLoggingSettings() throws {
        let conf = (try? String(contentsOfFile: dataDirectory + "/postgresql.conf", encoding: .utf8)) ?? ""
        if !conf.contains(Self.loggingMarker) { try appendToConf(Self.loggingSettings) }
    }

    func appendToConf(_ text: String) throws {
        let confPath = dataDirectory + "/postgresql.conf"
        // As root the file belongs to the postgres user; root may still append, and ownership stays.
        let fd = open(confPath, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw LocalPostgresError(message: "cannot open \(confPath): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            throw LocalPostgresError(message: "cannot write \(confPath): \(String(cString: strerror(errno)))")
        }
    }

    /// A value inside single quotes in postgresql.conf.
    static func confQuoted(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "''")
    }

    func start() throws {
        logger.info("starting the local PostgreSQL server", metadata: ["dir": "\(dataDirectory)"])
        try ensureLoggingSettings()
        try rotateStartupLog()
        try runTool("pg_ctl", ["start", "-D", dataDirectory, "-l", logFile, "-w", "-t", "60", "-s"])
    }

    /// `postgres.log` only holds what the server says before its logging collector runs; it is still
    /// kept from growing: past 1 MB it is moved to `postgres.log.1` (replacing the previous one).
    func rotateStartupLog() throws {
        var st = stat()
        guard lstat(logFile, &st) == 0, st.st_size > 1 << 20 else { return }
        if rename(logFile, logFile + ".1") != 0 {
            throw LocalPostgresError(message: "cannot rotate \(logFile): \(String(cString: strerror(errno)))")
        }
    }

    func ensureDatabase() throws {
        let admin = "postgresql:///postgres?host=\(socketDirectory)&port=\(Self.port)&user=\(Self.userName)"
        let connection = try PostgresConnection(admin)
        let exists = try connection.query("SELECT 1 FROM pg_database WHERE datname = $1", [Self.databaseName], name: "find database")
        if exists.count == 0 {
            try connection.execute("CREATE DATABASE \(Self.databaseName)", name: "create database")
        }
    }

    // MARK: - Folders

    /// The user the server runs as and that owns the cluster's folders: `postgres` under root, else us.
    func clusterOwner() throws -> (uid: uid_t, gid: gid_t, name: String) {
        if geteuid() == 0 {
            guard let pw = getpwnam("postgres") else {
                throw LocalPostgresError(
                    message:
                        "there is no postgres user: PostgreSQL refuses to run as root and the embedded cluster runs as postgres (install the PostgreSQL server package, or give --database-url)"
                )
            }
            return (pw.pointee.pw_uid, pw.pointee.pw_gid, "postgres")
        }
        return (geteuid(), getegid(), FileOwner.userName(geteuid()))
    }

    /// Creates the home folder (mode 0700, owned by the cluster's user) or checks the existing one: it
    /// must be a folder of the cluster's user that no one else may enter. A folder shopbulk created (it
    /// holds `.shopbulk.lock`) whose mode was widened is fixed; any other is refused with the command
    /// that makes it usable. Ownership is never changed on a folder shopbulk did not create.
    func secureHome() throws {
        let owner = try clusterOwner()
        var st = stat()
        if stat(home, &st) != 0 {
            guard errno == ENOENT else { throw LocalPostgresError(message: "cannot inspect \(home): \(String(cString: strerror(errno)))") }
            if try createFolder(home, owner: owner, withParents: true) { return }
            return try secureHome()
        }
        guard st.st_mode & S_IFMT == S_IFDIR else {
            throw LocalPostgresError(message: "\(home) is not a folder: give --data-dir a folder for the embedded cluster")
        }
        let ours = FileManager.default.fileExists(atPath: home + "/.shopbulk.lock")
        guard st.st_uid == owner.uid else {
            throw LocalPostgresError(
                message:
                    "the folder \(home) belongs to \(FileOwner.userName(st.st_uid)), not to \(owner.name), and shopbulk did not create it\(ours ? " as it is now" : ""): it will not put the cluster there. Give --data-dir a folder that does not exist yet (shopbulk creates it), or hand this one over: chown \(owner.name): \(home) && chmod 700 \(home)"
            )
        }
        try restrictMode(of: home, st, ours: ours, what: "the folder")
    }

    /// Checks the data folder (`pg/`) and the socket folder (`run/`, created when missing): real folders
    /// (not symlinks) of the cluster's user, mode 0700. Run under the set-up lock, before every use.
    func secureFolders() throws {
        let owner = try clusterOwner()
        var st = stat()
        if lstat(dataDirectory, &st) == 0 {
            try checkOwnedFolder(dataDirectory, st, owner: owner, what: "the data folder")
        }
        try secureSocketFolder()
    }

    /// The socket folder: created 0700 when missing; an existing one must be the cluster user's real
    /// folder (a widened mode is put back to 0700), and everything in it must be the cluster user's,
    /// or another local user could have put a fake server's socket there.
    func secureSocketFolder() throws {
        let owner = try clusterOwner()
        var st = stat()
        if lstat(socketDirectory, &st) != 0 {
            guard errno == ENOENT else {
                throw LocalPostgresError(message: "cannot inspect \(socketDirectory): \(String(cString: strerror(errno)))")
            }
            if try createFolder(socketDirectory, owner: owner, withParents: false) { return }
            return try secureSocketFolder()
        }
        try checkOwnedFolder(socketDirectory, st, owner: owner, what: "the socket folder")
        for entry in ((try? FileManager.default.contentsOfDirectory(atPath: socketDirectory)) ?? []).sorted() {
            var entryStat = stat()
            let path = socketDirectory + "/" + entry
            guard lstat(path, &entryStat) == 0 else { continue }
            if entryStat.st_uid != owner.uid {
                throw LocalPostgresError(
                    message:
                        "\(path) belongs to \(FileOwner.userName(entryStat.st_uid)), not to \(owner.name): another user may have put a fake server's socket there. Stop using it: remove it (rm \(path)) after checking who made it, then run the command again"
                )
            }
        }
    }

    /// A folder inside the home: not a symlink, the cluster user's, mode fixed to 0700.
    func checkOwnedFolder(_ path: String, _ st: stat, owner: (uid: uid_t, gid: gid_t, name: String), what: String) throws {
        guard st.st_mode & S_IFMT == S_IFDIR else {
            throw LocalPostgresError(
                message:
                    "\(what) \(path) is not a folder (\(st.st_mode & S_IFMT == S_IFLNK ? "a symbolic link" : "a file")): remove it (rm \(path)) and run the command again"
            )
        }
        guard st.st_uid == owner.uid else {
            throw LocalPostgresError(
                message:
                    "\(what) \(path) belongs to \(FileOwner.userName(st.st_uid)), not to \(owner.name), and shopbulk did not create it: another user could read or replace what is in it. Check who made it, then hand it over (chown -R \(owner.name): \(path) && chmod 700 \(path)) or remove it"
            )
        }
        try restrictMode(of: path, st, ours: true, what: what)
    }

    /// Puts a widened mode back to 0700 on a folder shopbulk made (with a warning), or refuses one it did not make.
    func restrictMode(of path: String, _ st: stat, ours: Bool, what: String) throws {
        let mode = st.st_mode & 0o7777
        guard mode & 0o077 != 0 else { return }
        guard ours else {
            throw LocalPostgresError(
                message:
                    "the folder \(path) is open to other users (mode \(String(mode, radix: 8))) and shopbulk did not create it: it will not put the cluster there. Make it private (chmod 700 \(path)) or give --data-dir a folder that does not exist yet"
            )
        }
        guard chmod(path, 0o700) == 0 else {
            throw LocalPostgresError(
                message:
                    "\(what) \(path) is open to other users (mode \(String(mode, radix: 8))) and cannot be made private: \(String(cString: strerror(errno))); fix it with chmod 700 \(path)"
            )
        }
        logger.warning(
            "\(what) was open to other users; made it private",
            metadata: ["path": "\(path)", "mode": "\(String(mode, radix: 8))", "now": "700"])
    }

    /// `mkdir` with mode 0700 and, under root, `chown` of that one folder (never recursively). False
    /// when the folder appeared meanwhile (it is then not touched).
    @discardableResult
    func createFolder(_ path: String, owner: (uid: uid_t, gid: gid_t, name: String), withParents: Bool) throws -> Bool {
        if withParents {
            let parent = (path as NSString).deletingLastPathComponent
            if !parent.isEmpty {
                try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            }
        }
        guard mkdir(path, 0o700) == 0 else {
            // Made by someone else meanwhile: it is checked like any existing folder, never adopted.
            if errno == EEXIST { return false }
            throw LocalPostgresError(message: "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        guard chmod(path, 0o700) == 0 else {
            throw LocalPostgresError(message: "cannot set the mode of \(path): \(String(cString: strerror(errno)))")
        }
        if geteuid() == 0 {
            guard chown(path, owner.uid, owner.gid) == 0 else {
                throw LocalPostgresError(message: "cannot hand \(path) to \(owner.name): \(String(cString: strerror(errno)))")
            }
        }
        return true
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

    /// Runs a program and waits for it with `waitpid`, collecting its output (at most 64 KiB) through a
    /// pipe: no file is created for it. Not Foundation's `Process`: it notices the end of a child through
    /// a descriptor the child inherits, and the server that `pg_ctl start` leaves running inherits it
    /// too, so the wait would last as long as the server. For the same reason the pipe is read only
    /// while the child runs, and drained once it has exited, not read to its end.
    @discardableResult
    func runCommand(_ path: String, _ arguments: [String], allowFailure: Bool = false) throws -> ToolResult {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            throw LocalPostgresError(message: "cannot create a pipe for \(path): \(String(cString: strerror(errno)))")
        }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        defer { close(readEnd) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 2)
        // Nothing else is passed on: the server pg_ctl leaves running must not hold our descriptors
        // (nor our parent's pipes), or whoever waits for them would wait for the server.
        Self.markDescriptorsCloseOnExec()
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid = pid_t()
        let rc = posix_spawn(&pid, path, &actions, nil, argv, environ)
        close(writeEnd)
        guard rc == 0 else {
            throw LocalPostgresError(message: "cannot start \(path): \(String(cString: strerror(rc)))")
        }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var atEnd = false
        /// Reads what is there, waiting up to `wait` milliseconds for the first byte.
        func drain(wait: Int32) {
            var timeout = wait
            while !atEnd {
                var pfd = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
                let ready = poll(&pfd, 1, timeout)
                if ready < 0 && errno == EINTR { continue }
                guard ready > 0 else { return }
                let n = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    atEnd = true
                    return
                }
                if output.count < 64 << 10 { output.append(contentsOf: buffer[0..<min(n, (64 << 10) - output.count)]) }
                timeout = 0
            }
        }
        var status: Int32 = 0
        while true {
            let done = waitpid(pid, &status, atEnd ? 0 : WNOHANG)
            if done == pid { break }
            if done < 0 {
                guard errno == EINTR else {
                    throw LocalPostgresError(message: "waiting for \(path) failed: \(String(cString: strerror(errno)))")
                }
                continue
            }
            drain(wait: 50)
        }
        drain(wait: 0)
        let exitStatus: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let text = String(decoding: output, as: UTF8.self)
        if exitStatus != 0 && !allowFailure {
            let tool =
                arguments.first { $0.hasSuffix("/pg_ctl") || $0.hasSuffix("/initdb") }.map { ($0 as NSString).lastPathComponent }
                ?? (path as NSString).lastPathComponent
            throw LocalPostgresError(
                message:
                    "\(tool) \(arguments.filter { !$0.hasPrefix("/usr") && $0 != "-u" && $0 != "postgres" && $0 != "--" }.joined(separator: " ")) failed (exit \(exitStatus)): \(text.trimmingCharacters(in: .whitespacesAndNewlines)). See \(logFile) and \(dataDirectory)/log/."
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
        let fd = open(home + "/.shopbulk.lock", O_CREAT | O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0o600)
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
