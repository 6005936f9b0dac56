import Blocking
import Foundation
import Postgres

/// A fixed, small number of PostgreSQL connections for the server's requests. libpq blocks, so every
/// call runs on the pool's own threads (one per connection, a `BlockingPool`), never on an event
/// loop or a cooperative thread; requests beyond the connections wait in order for one to be free,
/// and beyond `maximumWaiting` are refused (`DatabasePoolError.busy`, 503) rather than queued without
/// bound. Connections open on demand, are named `shopbulk serve` in `pg_stat_activity`, prepare their
/// statements (`PostgresConnection.preparesStatements`), and a broken one is closed and replaced by the
/// next request.
public final class DatabasePool: @unchecked Sendable {
    public let url: String
    public let size: Int
    public let maximumWaiting: Int
    private let threads: BlockingPool
    private let lock = NSLock()
    private var idle: [PostgresConnection] = []
    private var open = 0
    private var peak = 0
    private var waiters: [CheckedContinuation<Result<Lease, DatabasePoolError>, Never>] = []
    private var closed = false

    public init(url: String, size: Int, maximumWaiting: Int = 1024) {
        precondition(size > 0)
        self.url = url
        self.size = size
        self.maximumWaiting = maximumWaiting
        self.threads = BlockingPool(maximumThreads: size, name: "shopbulk-serve-db")
    }

    /// Connections open now and the most ever open at once (never more than `size`).
    public var counts: (open: Int, peak: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (open, peak)
    }

    /// Runs `body` with a connection of the pool, on the pool's threads.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        let lease = try await acquire()
        let result: Result<T, any Error> = await threads.run {
            do {
                let connection = try lease.connection ?? self.connect()
                do {
                    let value = try body(connection)
                    self.release(connection)
                    return .success(value)
                } catch {
                    if connection.isAlive { self.release(connection) } else { self.discard(connection) }
                    return .failure(error)
                }
            } catch {
                self.discard(nil)
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// A new connection of the pool: its statements are prepared once and then run by name (a lookup's
    /// few statements cost PostgreSQL more to parse and plan than to run), and it never JIT-compiles:
    /// the server only runs short index lookups, and when the planner overestimates one (statistics not
    /// yet gathered for an expression index, e.g. right after a bulk load: 25,000 rows expected, 2
    /// found), JIT spent 25-30 ms compiling a query that then ran in 0.1 ms (scripts/bench-serve).
    private func connect() throws -> PostgresConnection {
        let connection = try PostgresConnection(url, applicationName: "shopbulk serve")
        do {
            try connection.execute(Self.sessionSettings, name: "session settings")
        } catch {
            connection.close()
            throw error
        }
        connection.preparesStatements = true
        return connection
    }

    /// What every session of the pool sets first.
    public static let sessionSettings = "SET jit = off"

    /// A slot: an idle connection, or permission to open one (nil).
    private struct Lease: @unchecked Sendable { var connection: PostgresConnection? }

    private func acquire() async throws -> Lease {
        let handed = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Lease, DatabasePoolError>, Never>) in
            self.handOrQueue(continuation)
        }
        return try handed.get()
    }

    /// An idle connection, a slot to open one, a refusal, or a place in the queue: `release` and
    /// `discard` resume the queued in order.
    private func handOrQueue(_ continuation: CheckedContinuation<Result<Lease, DatabasePoolError>, Never>) {
        lock.lock()
        if closed {
            lock.unlock()
            continuation.resume(returning: .failure(.closed))
        } else if let connection = idle.popLast() {
            lock.unlock()
            continuation.resume(returning: .success(Lease(connection: connection)))
        } else if open < size {
            open += 1
            peak = max(peak, open)
            lock.unlock()
            continuation.resume(returning: .success(Lease(connection: nil)))
        } else if waiters.count >= maximumWaiting {
            lock.unlock()
            continuation.resume(returning: .failure(.busy))
        } else {
            waiters.append(continuation)
            lock.unlock()
        }
    }

    private func release(_ connection: PostgresConnection) {
        lock.lock()
        if closed {
            open -= 1
            lock.unlock()
            connection.close()
            return
        }
        if !waiters.isEmpty {
            let next = waiters.removeFirst()
            lock.unlock()
            next.resume(returning: .success(Lease(connection: connection)))
            return
        }
        idle.append(connection)
        lock.unlock()
    }

    /// A connection that failed (or never opened): its slot goes to the next waiter, who opens anew.
    private func discard(_ connection: PostgresConnection?) {
        connection?.close()
        lock.lock()
        if !waiters.isEmpty && !closed {
            let next = waiters.removeFirst()
            lock.unlock()
            next.resume(returning: .success(Lease(connection: nil)))
            return
        }
        open -= 1
        lock.unlock()
    }

    /// Closes the idle connections; those in use close when they are released.
    public func close() {
        lock.lock()
        closed = true
        let connections = idle
        idle = []
        open -= connections.count
        let pending = waiters
        waiters = []
        lock.unlock()
        for c in connections { c.close() }
        for w in pending { w.resume(returning: .failure(.closed)) }
    }
}

public enum DatabasePoolError: Error, Sendable, CustomStringConvertible {
    case busy, closed
    public var description: String {
        switch self {
        case .busy: return "too many requests are waiting for a database connection"
        case .closed: return "the database pool is closed"
        }
    }
}
