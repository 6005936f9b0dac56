internal import CLibPQ
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One connection to PostgreSQL through libpq. Blocking; use it from one thread at a time.
public final class PostgresConnection {
    private var handle: OpaquePointer?
    /// For `requestCancel()` from another thread (libpq's PGcancel is made for that).
    private var cancelHandle: OpaquePointer?
    private let cancelLock = NSLock()
    /// The libpq handle; using a closed connection is a programming error, stopped here.
    var conn: OpaquePointer {
        guard let handle else { preconditionFailure("PostgresConnection to \(endpoint) used after close()") }
        return handle
    }
    /// Where the connection goes, without the password: for messages.
    public let endpoint: String
    private var transactionDepth = 0
    /// Whether `query` prepares each statement text once on this connection and then executes it by
    /// name: for long-lived connections that run the same few statements over and over (the server's
    /// pool), where parsing and planning them every time cost PostgreSQL more than running them.
    public var preparesStatements = false
    /// Statement text → its server-side name (`sb_N`), for `preparesStatements`.
    private var prepared: [String: String] = [:]
    /// The number of the last statement name given out: names are never reused, also after one was
    /// deallocated and its text prepared afresh.
    private var lastStatementNumber = 0
    /// The most statements one connection keeps prepared; further texts run unnamed.
    static let maximumPrepared = 256

    /// Connects with a `postgresql://` URL or a libpq keyword string (`host=... dbname=...`);
    /// `applicationName` names the session in `pg_stat_activity` from its first moment.
    public init(_ connectionString: String, applicationName: String? = nil) throws(PostgresError) {
        let described = PostgresConnection.describeTarget(connectionString)
        let connected: OpaquePointer?
        if let applicationName {
            // expand_dbname = 1: the first value is the whole connection string; the name overrides.
            let owned: [UnsafeMutablePointer<CChar>?] = [
                strdup("dbname"), strdup("application_name"), strdup(connectionString), strdup(applicationName),
            ]
            defer { for p in owned { free(p) } }
            let k: [UnsafePointer<CChar>?] = [UnsafePointer(owned[0]), UnsafePointer(owned[1]), nil]
            let v: [UnsafePointer<CChar>?] = [UnsafePointer(owned[2]), UnsafePointer(owned[3]), nil]
            connected = PQconnectdbParams(k, v, 1)
        } else {
            connected = PQconnectdb(connectionString)
        }
        guard let conn = connected else {
            throw PostgresError(code: .connection, message: "libpq could not allocate a connection to \(described)")
        }
        guard PQstatus(conn) == CONNECTION_OK else {
            let raw = String(cString: PQerrorMessage(conn))
            PQfinish(conn)
            let reason = PostgresConnection.redact(raw, in: connectionString)
                .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                .joined(separator: " ")
            throw PostgresError(
                code: .connection,
                message:
                    "cannot connect to PostgreSQL at \(described): \(reason). Check that the server is running and reachable, and the host, port, user and password in --database-url / DATABASE_URL."
            )
        }
        self.handle = conn
        self.cancelHandle = PQgetCancel(conn)
        self.endpoint = described
        PQsetNoticeProcessor(conn, { _, _ in }, nil)  // NOTICEs ("already exists, skipping") are not errors
        try execute("SET client_encoding = 'UTF8'", name: "set client encoding")
    }

    deinit { close() }

    /// Ends the session with the server now (idempotent). Every owner closes its connection when its
    /// work ends, on errors too, rather than waiting for the last reference to go.
    public func close() {
        guard let handle else { return }
        cancelLock.lock()
        if let cancelHandle { PQfreeCancel(cancelHandle) }
        cancelHandle = nil
        cancelLock.unlock()
        self.handle = nil
        PQfinish(handle)
    }

    /// Asks the server to cancel the statement this connection runs now (from any thread; nothing
    /// happens when none runs). The statement then fails with SQLSTATE 57014.
    public func requestCancel() {
        cancelLock.lock()
        defer { cancelLock.unlock() }
        guard let cancelHandle else { return }
        var buffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(cancelHandle, &buffer, Int32(buffer.count))  // best effort: the statement may have ended
    }

    /// Whether `close()` was called.
    public var isClosed: Bool { handle == nil }

    /// Runs one statement with parameters `$1…$n` (text format) and returns all its rows.
    /// `name` identifies the statement in errors; parameter values never appear there.
    @discardableResult
    public func query(_ sql: String, _ parameters: [any PostgresBindable] = [], name: String? = nil) throws(PostgresError)
        -> PostgresResult
    {
        let texts: [String?] = parameters.map { $0.postgresText }
        for text in texts where text?.utf8.contains(0) == true {
            throw PostgresError(code: .parameter, message: "a parameter contains a NUL byte", statement: name)
        }
        if preparesStatements && (prepared[sql] != nil || prepared.count < Self.maximumPrepared) {
            return try queryPrepared(sql, texts, name: name, retry: transactionDepth == 0)
        }
        let result: OpaquePointer? = withCStrings(texts) { pointers in
            PQexecParams(conn, sql, Int32(texts.count), nil, pointers, nil, nil, 0)
        }
        return try consume(result, name: name)
    }

    /// `query` through a named prepared statement (prepared on first use, parameter types inferred by
    /// the server as for an unnamed one). When a migration changed what the statement reads so that its
    /// result changes shape (SQLSTATE 0A000, "cached plan must not change result type"), it is prepared
    /// afresh once (outside a transaction, which the error would have aborted).
    private func queryPrepared(_ sql: String, _ texts: [String?], name: String?, retry: Bool) throws(PostgresError) -> PostgresResult {
        let statement: String
        if let known = prepared[sql] {
            statement = known
        } else {
            lastStatementNumber += 1
            statement = "sb_\(lastStatementNumber)"
            _ = try consume(PQprepare(conn, statement, sql, Int32(texts.count), nil), name: name)
            prepared[sql] = statement
        }
        let result: OpaquePointer? = withCStrings(texts) { pointers in
            PQexecPrepared(conn, statement, Int32(texts.count), pointers, nil, nil, 0)
        }
        do {
            return try consume(result, name: name)
        } catch {
            guard retry, error.sqlState == "0A000" else { throw error }
            _ = try? execute("DEALLOCATE \(statement)", name: "deallocate")
            prepared[sql] = nil
            return try queryPrepared(sql, texts, name: name, retry: false)
        }
    }

    /// Runs one or more statements with no parameters (the simple query protocol), e.g. a migration file.
    @discardableResult
    public func execute(_ sql: String, name: String? = nil) throws(PostgresError) -> PostgresResult {
        try consume(PQexec(conn, sql), name: name)
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    /// Nested calls use savepoints.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        let depth = transactionDepth
        let savepoint = "sb_sp_\(depth)"
        try execute(depth == 0 ? "BEGIN" : "SAVEPOINT \(savepoint)", name: "begin")
        transactionDepth += 1
        defer { transactionDepth = depth }
        do {
            let value = try body()
            try execute(depth == 0 ? "COMMIT" : "RELEASE SAVEPOINT \(savepoint)", name: "commit")
            return value
        } catch {
            // The original error matters; a failed rollback only means the connection is gone.
            _ = try? execute(depth == 0 ? "ROLLBACK" : "ROLLBACK TO SAVEPOINT \(savepoint)", name: "rollback")
            throw error
        }
    }

    /// Whether the server is still there.
    public var isAlive: Bool { handle.map { PQstatus($0) == CONNECTION_OK } ?? false }

    /// Turns a libpq result into rows or a `PostgresError`; always frees it.
    func consume(_ result: OpaquePointer?, name: String?) throws(PostgresError) -> PostgresResult {
        guard let result else {
            throw PostgresError(
                code: .protocolError, message: String(cString: PQerrorMessage(conn)).trimmed, statement: name)
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return PostgresResult(columns: [], rows: [], affectedRows: affected(result))
        case PGRES_TUPLES_OK, PGRES_SINGLE_TUPLE:
            return readRows(result)
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            throw PostgresError(code: .protocolError, message: "COPY must go through copyFrom", statement: name)
        default:
            throw serverError(result, name: name)
        }
    }

    func serverError(_ result: OpaquePointer, name: String?) -> PostgresError {
        func field(_ code: Int32) -> String? {
            guard let p = PQresultErrorField(result, code) else { return nil }
            return String(cString: p)
        }
        let primary = field(sb_pq_diag_message_primary()) ?? String(cString: PQresultErrorMessage(result)).trimmed
        return PostgresError(
            code: .server, sqlState: field(sb_pq_diag_sqlstate()), message: primary,
            detail: field(sb_pq_diag_message_detail()), hint: field(sb_pq_diag_message_hint()),
            constraint: field(sb_pq_diag_constraint_name()), statement: name)
    }

    private func affected(_ result: OpaquePointer) -> Int {
        guard let tuples = PQcmdTuples(result) else { return 0 }
        return Int(String(cString: tuples)) ?? 0
    }

    private func readRows(_ result: OpaquePointer) -> PostgresResult {
        let columnCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        var columns: [String] = []
        columns.reserveCapacity(columnCount)
        var index: [String: Int] = [:]
        for c in 0..<columnCount {
            let name = String(cString: PQfname(result, Int32(c)))
            columns.append(name)
            if index[name] == nil { index[name] = c }
        }
        var rows: [PostgresRow] = []
        rows.reserveCapacity(rowCount)
        for r in 0..<rowCount {
            var cells: [PostgresCell] = []
            cells.reserveCapacity(columnCount)
            for c in 0..<columnCount {
                if PQgetisnull(result, Int32(r), Int32(c)) == 1 {
                    cells.append(PostgresCell(text: nil, column: columns[c]))
                } else {
                    let length = Int(PQgetlength(result, Int32(r), Int32(c)))
                    let raw = UnsafeRawBufferPointer(start: PQgetvalue(result, Int32(r), Int32(c)), count: length)
                    cells.append(PostgresCell(text: String(decoding: raw, as: UTF8.self), column: columns[c]))
                }
            }
            rows.append(PostgresRow(cells: cells, index: index))
        }
        return PostgresResult(columns: columns, rows: rows, affectedRows: affected(result))
    }

    /// The connection string without its password, for printing (a URL's `user:password@` and
    /// `password=` parameter, or a `key=value` string's `password`); everything else is kept, so that
    /// `psql` can use it (and asks for the password).
    public static func withoutPassword(_ connectionString: String) -> String {
        let lower = connectionString.lowercased()
        if lower.hasPrefix("postgresql://") || lower.hasPrefix("postgres://") {
            guard let schemeEnd = connectionString.range(of: "://") else { return connectionString }
            var rest = String(connectionString[schemeEnd.upperBound...])
            let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
            if let at = rest[..<authorityEnd].lastIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":") {
                rest.removeSubrange(colon..<at)
            }
            if let q = rest.firstIndex(of: "?") {
                let kept = rest[rest.index(after: q)...].split(separator: "&").filter { !$0.lowercased().hasPrefix("password=") }
                rest = String(rest[..<q]) + (kept.isEmpty ? "" : "?" + kept.joined(separator: "&"))
            }
            return String(connectionString[..<schemeEnd.upperBound]) + rest
        }
        var error: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(connectionString, &error) else {
            if let error { PQfreemem(error) }
            return "(an unparsable connection string)"
        }
        defer { PQconninfoFree(options) }
        var parts: [String] = []
        var p = options
        while let keyword = p.pointee.keyword {
            let key = String(cString: keyword)
            if key != "password", let value = p.pointee.val {
                let text = String(cString: value).replacingAll("\\", with: "\\\\").replacingAll("'", with: "\\'")
                parts.append("\(key)='\(text)'")
            }
            p += 1
        }
        return parts.joined(separator: " ")
    }

    /// "host H port P database D user U" for a connection string, with no password.
    static func describeTarget(_ connectionString: String) -> String {
        var error: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(connectionString, &error) else {
            if let error { PQfreemem(error) }
            return "an unparsable connection string"
        }
        defer { PQconninfoFree(options) }
        var values: [String: String] = [:]
        var p = options
        while let keyword = p.pointee.keyword {
            if let value = p.pointee.val { values[String(cString: keyword)] = String(cString: value) }
            p += 1
        }
        let host = values["host"] ?? values["hostaddr"] ?? "the default Unix socket"
        var parts = ["host \(host)"]
        if let port = values["port"] { parts.append("port \(port)") }
        if let db = values["dbname"] { parts.append("database \(db)") }
        if let user = values["user"] { parts.append("user \(user)") }
        return parts.joined(separator: ", ")
    }

    /// Removes the connection string's password from `text`, wherever it appears.
    static func redact(_ text: String, in connectionString: String) -> String {
        var error: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(connectionString, &error) else {
            if let error { PQfreemem(error) }
            return text
        }
        defer { PQconninfoFree(options) }
        var result = text
        var p = options
        while let keyword = p.pointee.keyword {
            if String(cString: keyword) == "password", let value = p.pointee.val {
                let password = String(cString: value)
                if !password.isEmpty { result = result.replacingAll(password, with: "***") }
            }
            p += 1
        }
        return result
    }
}

/// Calls `body` with a C array of C strings (NULL for `nil`) that lives for the call.
func withCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    if strings.isEmpty { return body(nil) }
    var owned: [UnsafeMutablePointer<CChar>?] = strings.map { $0.map { strdup($0) } ?? nil }
    defer { for p in owned { free(p) } }
    return owned.withUnsafeMutableBufferPointer { buffer in
        buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: max(buffer.count, 1)) {
            body(UnsafePointer($0))
        }
    }
}

extension String {
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }

    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = self[...]
        while let range = rest.range(of: target) {
            out += rest[rest.startIndex..<range.lowerBound]
            out += replacement
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}
