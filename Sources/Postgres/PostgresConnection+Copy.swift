internal import CLibPQ

#if canImport(Glibc)
    import Glibc
#endif

/// Builds rows of a `COPY … FROM STDIN` text-format stream in a buffer and sends it in chunks.
///
/// Write a row with `field(_:)` / `null()` calls, then `endRow()`. Text is escaped as COPY's text format
/// needs (backslash, tab, newline, carriage return); a NUL byte, which PostgreSQL text cannot hold, is an
/// error naming the row and column.
public struct CopyWriter: ~Copyable {
    var buffer: UnsafeMutableRawPointer
    var count: Int
    let capacity: Int
    let conn: OpaquePointer
    var column = 0
    /// Rows completed so far.
    public internal(set) var rows: Int64 = 0
    /// Bytes handed to libpq so far.
    public private(set) var bytesSent: Int64 = 0
    let statement: String?

    init(conn: OpaquePointer, capacity: Int, statement: String?) {
        self.conn = conn
        self.capacity = max(capacity, 4096)
        self.buffer = .allocate(byteCount: self.capacity, alignment: 16)
        self.count = 0
        self.statement = statement
    }

    deinit { buffer.deallocate() }

    @inline(__always)
    mutating func reserve(_ n: Int) throws(PostgresError) {
        if count + n > capacity { try flush() }
    }

    @inline(__always)
    mutating func separator() throws(PostgresError) {
        if column > 0 {
            try reserve(1)
            buffer.storeBytes(of: 9, toByteOffset: count, as: UInt8.self)
            count += 1
        }
        column += 1
    }

    /// Appends SQL NULL.
    public mutating func null() throws(PostgresError) {
        try separator()
        try reserve(2)
        buffer.storeBytes(of: 0x5C, toByteOffset: count, as: UInt8.self)
        buffer.storeBytes(of: 0x4E, toByteOffset: count + 1, as: UInt8.self)
        count += 2
    }

    /// Appends a text value given as UTF-8 bytes, escaping as needed.
    public mutating func field(_ bytes: UnsafeRawBufferPointer) throws(PostgresError) {
        try separator()
        try appendEscaped(bytes)
    }

    /// Appends a text value.
    public mutating func field(_ text: String) throws(PostgresError) {
        var copy = text
        var failure: PostgresError?
        copy.withUTF8 { p in
            do throws(PostgresError) { try field(UnsafeRawBufferPointer(p)) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Appends an optional text value (`nil` is NULL).
    public mutating func field(_ text: String?) throws(PostgresError) {
        if let text { try field(text) } else { try null() }
    }

    /// Appends an integer.
    public mutating func field(_ value: Int64) throws(PostgresError) {
        try field(String(value))
    }

    /// Starts a field whose text the caller appends in pieces with `appendToField`.
    public mutating func beginField() throws(PostgresError) {
        try separator()
    }

    /// Appends more bytes to the field begun with `beginField`, escaping them.
    public mutating func appendToField(_ bytes: UnsafeRawBufferPointer) throws(PostgresError) {
        try appendEscaped(bytes)
    }

    /// Appends bytes that are known to need no escaping (digits, ASCII identifiers).
    public mutating func appendVerbatim(_ bytes: UnsafeRawBufferPointer) throws(PostgresError) {
        try reserve(bytes.count)
        if bytes.count > capacity {
            // Larger than the whole buffer: send it as it is.
            try flush()
            try put(bytes)
            return
        }
        (buffer + count).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        count += bytes.count
    }

    /// Ends the current row.
    public mutating func endRow() throws(PostgresError) {
        try reserve(1)
        buffer.storeBytes(of: 10, toByteOffset: count, as: UInt8.self)
        count += 1
        column = 0
        rows += 1
    }

    @inline(__always)
    mutating func appendEscaped(_ bytes: UnsafeRawBufferPointer) throws(PostgresError) {
        guard let base = bytes.baseAddress else { return }
        let n = bytes.count
        var start = 0
        var i = 0
        while i < n {
            let b = base.load(fromByteOffset: i, as: UInt8.self)
            if b != 0x5C && (b > 13 || (b != 0 && b != 9 && b != 10 && b != 13)) {
                i += 1
                continue
            }
            // Flush the plain run before this byte.
            if i > start { try appendRaw(base + start, i - start) }
            let escaped: UInt8
            switch b {
            case 0x5C: escaped = 0x5C
            case 9: escaped = 0x74  // t
            case 10: escaped = 0x6E  // n
            case 13: escaped = 0x72  // r
            default:
                throw PostgresError(
                    code: .copyData,
                    message: "a value contains a NUL byte (0x00), which PostgreSQL text cannot store: row \(rows + 1), column \(column)",
                    statement: statement)
            }
            try reserve(2)
            buffer.storeBytes(of: 0x5C, toByteOffset: count, as: UInt8.self)
            buffer.storeBytes(of: escaped, toByteOffset: count + 1, as: UInt8.self)
            count += 2
            i += 1
            start = i
        }
        if n > start { try appendRaw(base + start, n - start) }
    }

    @inline(__always)
    mutating func appendRaw(_ p: UnsafeRawPointer, _ n: Int) throws(PostgresError) {
        if count + n > capacity {
            try flush()
            if n > capacity {
                try put(UnsafeRawBufferPointer(start: p, count: n))
                return
            }
        }
        (buffer + count).copyMemory(from: p, byteCount: n)
        count += n
    }

    /// Sends the buffered bytes to the server.
    mutating func flush() throws(PostgresError) {
        guard count > 0 else { return }
        try put(UnsafeRawBufferPointer(start: buffer, count: count))
        count = 0
    }

    func put(_ bytes: UnsafeRawBufferPointer) throws(PostgresError) {
        let rc = PQputCopyData(conn, bytes.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(bytes.count))
        guard rc == 1 else {
            throw PostgresError(
                code: .protocolError, message: "sending COPY data failed: \(String(cString: PQerrorMessage(conn)).trimmed)",
                statement: statement)
        }
    }

    mutating func noteSent() { bytesSent += Int64(count) }
}

extension PostgresConnection {
    /// Runs `COPY … FROM STDIN` (text format) and streams the rows `producer` writes.
    ///
    /// When `producer` throws, the COPY is cancelled with `CopyFail` (so no row of it stays) and the
    /// producer's error is rethrown. Returns the number of rows the server stored.
    @discardableResult
    public func copyFrom(
        _ sql: String, name: String? = nil, bufferSize: Int = 256 << 10,
        _ producer: (inout CopyWriter) throws -> Void
    ) throws -> Int64 {
        let start = PQexec(conn, sql)
        guard let start else {
            throw PostgresError(code: .protocolError, message: String(cString: PQerrorMessage(conn)).trimmed, statement: name)
        }
        guard PQresultStatus(start) == PGRES_COPY_IN else {
            defer { PQclear(start) }
            if PQresultStatus(start) == PGRES_FATAL_ERROR { throw serverError(start, name: name) }
            throw PostgresError(code: .protocolError, message: "statement did not start COPY FROM STDIN", statement: name)
        }
        PQclear(start)

        var writer = CopyWriter(conn: conn, capacity: bufferSize, statement: name)
        do {
            try producer(&writer)
            try writer.flush()
        } catch {
            let reason = "shopbulk cancelled the COPY: \(error)"
            _ = PQputCopyEnd(conn, String(reason.prefix(200)))
            drainResults()
            throw error
        }
        guard PQputCopyEnd(conn, nil) == 1 else {
            let message = String(cString: PQerrorMessage(conn)).trimmed
            drainResults()
            throw PostgresError(code: .protocolError, message: "ending COPY failed: \(message)", statement: name)
        }
        var firstError: PostgresError?
        var stored: Int64 = 0
        while let result = PQgetResult(conn) {
            if PQresultStatus(result) == PGRES_COMMAND_OK {
                if let tuples = PQcmdTuples(result) { stored = Int64(String(cString: tuples)) ?? writer.rows }
            } else if firstError == nil {
                firstError = serverError(result, name: name)
            }
            PQclear(result)
        }
        if let firstError { throw firstError }
        return stored
    }

    private func drainResults() {
        while let result = PQgetResult(conn) { PQclear(result) }
    }
}

extension PostgresConnection {
    /// Takes a session-level advisory lock, waiting for it, runs `body`, then releases it.
    public func withAdvisoryLock<T>(_ key: Int64, _ body: () throws -> T) throws -> T {
        try query("SELECT pg_advisory_lock($1)", [key], name: "take advisory lock")
        defer { _ = try? query("SELECT pg_advisory_unlock($1)", [key], name: "release advisory lock") }
        return try body()
    }

    /// Tries to take a session-level advisory lock without waiting; `true` when it was taken.
    public func tryAdvisoryLock(_ key: Int64) throws(PostgresError) -> Bool {
        let result = try query("SELECT pg_try_advisory_lock($1) AS taken", [key], name: "try advisory lock")
        return result.first?["taken"].bool ?? false
    }

    /// Whether this session holds the session-level advisory lock `key` (checked in `pg_locks`; an
    /// error when the connection is gone).
    public func holdsAdvisoryLock(_ key: Int64) throws(PostgresError) -> Bool {
        let result = try query(
            """
            SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted AND objsubid = 1
                           AND classid::bigint = (($1::bigint >> 32) & 4294967295) AND objid::bigint = ($1::bigint & 4294967295)) AS held
            """, [key], name: "check advisory lock")
        return result.first?["held"].bool ?? false
    }

    /// Releases a session-level advisory lock taken with `tryAdvisoryLock`.
    public func advisoryUnlock(_ key: Int64) throws(PostgresError) {
        try query("SELECT pg_advisory_unlock($1)", [key], name: "release advisory lock")
    }

    /// A stable 64-bit advisory-lock key for a name (FNV-1a), so that locks can be named in code.
    public static func advisoryKey(_ name: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return Int64(bitPattern: hash)
    }
}
