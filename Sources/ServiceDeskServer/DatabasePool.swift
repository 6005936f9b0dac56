import Blocking
import Foundation
import Postgres

/// A fixed, small number of PostgreSQL connections for the server's requests, each owned by a thread
/// of its own (libpq blocks, so no call runs on an event loop or a cooperative thread). Requests queue
/// in one FIFO queue of work, and a connection's thread takes the next piece as soon as it is done
/// with one: a request that waits costs no hop back to the cooperative pool and out again, only the
/// one that returns its answer. Beyond `maximumWaiting` queued requests the pool refuses
/// (`DatabasePoolError.busy`, 503) rather than queue without bound. Threads and connections start on
/// demand (a thread when work waits and none is idle), are named `shopbulk serve` in
/// `pg_stat_activity`, prepare their statements (`PostgresConnection.preparesStatements`), and a
/// broken connection is closed and opened anew for the next piece of work.
public final class DatabasePool: @unchecked Sendable {
    public let url: String
    public let size: Int
    public let maximumWaiting: Int
    private let condition = NSCondition()
    /// Work not yet taken: given a connection (or why there is none), it runs and answers its caller.
    private var queue: [@Sendable (Result<PostgresConnection, any Error>) -> Void] = []
    private var head = 0
    private var threads = 0
    private var idleThreads = 0
    /// Threads running a piece of work (taken in `next`, until it has answered).
    private var busy = 0
    private var open = 0
    private var peak = 0
    private var closed = false

    public init(url: String, size: Int, maximumWaiting: Int = 1024) {
        precondition(size > 0)
        self.url = url
        self.size = size
        self.maximumWaiting = maximumWaiting
    }

    /// Connections open now and the most ever open at once (never more than `size`).
    public var counts: (open: Int, peak: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (open, peak)
    }

    /// Work queued and not yet taken by a connection's thread.
    public var waiting: Int {
        condition.lock()
        defer { condition.unlock() }
        return queue.count - head
    }

    /// Runs `body` with a connection of the pool, on that connection's thread, once the work queued
    /// before it has been taken.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        let result: Result<T, any Error> = await withCheckedContinuation { continuation in
            let work: @Sendable (Result<PostgresConnection, any Error>) -> Void = { connection in
                continuation.resume(returning: Result { try body(connection.get()) })
            }
            if let refusal = enqueue(work) { continuation.resume(returning: .failure(refusal)) }
        }
        return try result.get()
    }

    /// Queues `work`, starting a thread when it waits and none is idle; the refusal when closed or full.
    private func enqueue(_ work: @escaping @Sendable (Result<PostgresConnection, any Error>) -> Void) -> DatabasePoolError? {
        condition.lock()
        if closed {
            condition.unlock()
            return .closed
        }
        // Waiting: the queued work beyond what the threads not busy (idle, between two pieces of
        // work, or yet to start) are about to take.
        if queue.count - head - (size - busy) >= maximumWaiting {
            condition.unlock()
            return .busy
        }
        queue.append(work)
        let startOne = queue.count - head > idleThreads && threads < size
        if startOne { threads += 1 }
        let number = threads
        condition.signal()
        condition.unlock()
        if startOne {
            let thread = Thread { [self] in serve() }
            thread.name = "shopbulk-serve-db-\(number)"
            // As the blocking pool's threads: a lookup parses nested JSON (fulfillments) on this one.
            thread.stackSize = BlockingPool.threadStackSize
            thread.start()
        }
        return nil
    }

    /// The next piece of work, or nil when the pool is closed (the lock is taken and released here).
    private func next() -> (@Sendable (Result<PostgresConnection, any Error>) -> Void)? {
        condition.lock()
        defer { condition.unlock() }
        while head == queue.count && !closed {
            idleThreads += 1
            condition.wait()
            idleThreads -= 1
        }
        guard head < queue.count else { return nil }
        let work = queue[head]
        head += 1
        busy += 1
        // Drop what was taken once it is most of the array.
        if head > 64 && head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
        return work
    }

    /// A connection's thread: takes work until the pool closes; opens its connection when it has
    /// none (after a failure, for the next piece of work), and closes a broken one.
    private func serve() {
        var connection: PostgresConnection?
        while let work = next() {
            if connection == nil {
                do {
                    connection = try connect()
                    counted(+1)
                } catch {
                    work(.failure(error))
                    done()
                    continue
                }
            }
            guard let current = connection else {
                done()
                continue
            }
            work(.success(current))
            if !current.isAlive {
                current.close()
                connection = nil
                counted(-1)
            }
            done()
        }
        if let connection {
            connection.close()
            counted(-1)
        }
        condition.lock()
        threads -= 1
        condition.unlock()
    }

    /// A piece of work has answered.
    private func done() {
        condition.lock()
        busy -= 1
        condition.unlock()
    }

    private func counted(_ change: Int) {
        condition.lock()
        open += change
        peak = max(peak, open)
        condition.unlock()
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

    /// Refuses the work still queued, and lets each thread close its connection and end once it is
    /// done with what it runs now.
    public func close() {
        condition.lock()
        closed = true
        let pending = queue[head...]
        queue = []
        head = 0
        condition.broadcast()
        condition.unlock()
        for work in pending { work(.failure(DatabasePoolError.closed)) }
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
