import Blocking
import Foundation
import Postgres

/// One PostgreSQL connection with one owner. Its calls run on the blocking pool, one at a time, so
/// that libpq never blocks a cooperative thread; `close()` ends it, and every owner closes its
/// session when its work ends, on errors and cancellation too (`DatabaseSession.with`).
final class DatabaseSession: @unchecked Sendable {
    private let connection: PostgresConnection
    private let lock = NSLock()
    private let gauge: ConnectionGauge?
    let role: String

    private init(connection: PostgresConnection, role: String, gauge: ConnectionGauge?) {
        self.connection = connection
        self.role = role
        self.gauge = gauge
    }

    /// Connects (on the pool) and names the session in `pg_stat_activity` (`application_name`).
    static func open(url: String, role: String, gauge: ConnectionGauge?) async throws -> DatabaseSession {
        try await BlockingPool.shared.run { () throws -> DatabaseSession in
            // Named from its first moment, so that pg_stat_activity never shows it unnamed.
            let connection = try PostgresConnection(url, applicationName: String(role.prefix(60)))
            gauge?.opened()
            return DatabaseSession(connection: connection, role: role, gauge: gauge)
        }
    }

    /// Opens a session for `body` and closes it when `body` ends, however it ends.
    static func with<T>(url: String, role: String, gauge: ConnectionGauge?, _ body: (DatabaseSession) async throws -> T) async throws -> T {
        let session = try await open(url: url, role: role, gauge: gauge)
        defer { session.close() }
        return try await body(session)
    }

    /// Runs `body` with the connection on the blocking pool.
    func run<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await BlockingPool.shared.run { () throws -> T in
            self.lock.lock()
            defer { self.lock.unlock() }
            guard !self.connection.isClosed else { throw ShopError(.sessionClosed, "the \(self.role) database session is closed") }
            return try body(self.connection)
        }
    }

    /// Runs `body` with the ledger on this session.
    func ledger<T: Sendable>(_ body: @escaping @Sendable (RunLedger) throws -> T) async throws -> T {
        try await run { try body(RunLedger(connection: $0)) }
    }

    /// The connection for work that must hold it across several pool calls on one task (a streamed
    /// load: begin, the download's chunks, finish). The caller owns it meanwhile.
    var unsafeConnection: UnsafeConnection { UnsafeConnection(connection: connection) }

    func close() {
        lock.lock()
        defer { lock.unlock() }
        guard !connection.isClosed else { return }
        connection.close()
        gauge?.closed()
    }
}

/// A connection handed across a concurrency boundary by its single owner.
struct UnsafeConnection: @unchecked Sendable {
    let connection: PostgresConnection
}

/// Counts the database sessions an engine holds at once (and the most it ever held), for tests and
/// for `status`-like reporting.
public final class ConnectionGauge: @unchecked Sendable {
    private let lock = NSLock()
    private var current = 0
    private var highest = 0
    private var total = 0

    public init() {}

    func opened() {
        lock.lock()
        current += 1
        total += 1
        highest = max(highest, current)
        lock.unlock()
    }

    func closed() {
        lock.lock()
        current -= 1
        lock.unlock()
    }

    /// Sessions open now, the most open at once, and how many were ever opened.
    public var snapshot: (open: Int, peak: Int, opened: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (current, highest, total)
    }
}
