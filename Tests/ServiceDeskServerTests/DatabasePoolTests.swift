import Foundation
import Postgres
import ServiceDeskServer
import TestSupport
import Testing

/// The request pool on its own: one queue, in order, bounded; broken connections replaced.
@Suite("DatabasePool against the real database", .enabled(if: TestEnvironment.databaseTestsEnabled))
struct DatabasePoolTests {
    /// A list appended to from the pool's threads.
    final class Log: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [Int] = []
        func append(_ i: Int) {
            lock.lock()
            items.append(i)
            lock.unlock()
        }
        var all: [Int] {
            lock.lock()
            defer { lock.unlock() }
            return items
        }
    }

    @Test(
        "work waits in one queue and runs in order; beyond maximumWaiting it is refused; a broken connection is replaced; close refuses what waits"
    )
    func queue() async throws {
        let db = try TestDatabase()
        let pool = DatabasePool(url: db.url, size: 1, maximumWaiting: 3)
        let gate = DispatchSemaphore(value: 0)
        let held = Task { try await pool.withConnection { _ in gate.wait() } }
        try await waitUntil(20, "the first piece of work to hold the connection") { pool.counts.open == 1 && pool.waiting == 0 }
        // Three queued one after another (each seen waiting before the next), then a fourth refused.
        let log = Log()
        var queued: [Task<Int, any Error>] = []
        for i in 1...3 {
            queued.append(
                Task {
                    try await pool.withConnection { _ in
                        log.append(i); return i
                    }
                })
            try await waitUntil(20, "work \(i) to wait") { pool.waiting == i }
        }
        await #expect(throws: DatabasePoolError.busy) { try await pool.withConnection { _ in 0 } }
        gate.signal()
        try await held.value
        for (i, task) in queued.enumerated() { #expect(try await task.value == i + 1) }
        #expect(log.all == [1, 2, 3])
        #expect(pool.counts.peak == 1)

        // A connection that breaks under a piece of work: that work fails, the next gets a new one.
        let pid = try await pool.withConnection { try $0.query("SELECT pg_backend_pid() AS p").first?["p"].int ?? 0 }
        await #expect(throws: (any Error).self) {
            try await pool.withConnection { c in _ = try c.query("SELECT pg_terminate_backend(pg_backend_pid())") }
        }
        let again = try await pool.withConnection { try $0.query("SELECT pg_backend_pid() AS p").first?["p"].int ?? 0 }
        #expect(again != pid && again != 0)
        #expect(pool.counts.open == 1)

        // Closed: what waits is refused, what comes later too.
        let gate2 = DispatchSemaphore(value: 0)
        let started = Log()
        let running = Task {
            try await pool.withConnection { _ in
                started.append(0)
                gate2.wait()
            }
        }
        try await waitUntil(20, "work to hold the connection") { started.all == [0] }
        let waiting = Task { try await pool.withConnection { _ in 1 } }
        try await waitUntil(20, "work to wait") { pool.waiting == 1 }
        pool.close()
        await #expect(throws: DatabasePoolError.closed) { try await waiting.value }
        await #expect(throws: DatabasePoolError.closed) { try await pool.withConnection { _ in 0 } }
        gate2.signal()
        try await running.value
        try await waitUntil(20, "the pool's connection to close") { pool.counts.open == 0 }
    }

    @Test("from cold, as many pieces of work as connections plus maximumWaiting are taken, the next refused")
    func coldStart() async throws {
        let db = try TestDatabase()
        let pool = DatabasePool(url: db.url, size: 3, maximumWaiting: 1)
        defer { pool.close() }
        let gate = DispatchSemaphore(value: 0)
        // Four at once, before any thread has started: three run, one waits; none is refused.
        let tasks = (0..<4).map { i in
            Task {
                try await pool.withConnection { _ in
                    gate.wait(); return i
                }
            }
        }
        try await waitUntil(20, "three to run and one to wait") { pool.counts.open == 3 && pool.waiting == 1 }
        await #expect(throws: DatabasePoolError.busy) { try await pool.withConnection { _ in -1 } }
        for _ in 0..<4 { gate.signal() }
        #expect(try await tasks.asyncMap { try await $0.value }.sorted() == [0, 1, 2, 3])
        #expect(pool.counts.peak == 3)
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for element in self { out.append(try await transform(element)) }
        return out
    }
}
