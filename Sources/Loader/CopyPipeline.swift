import Failpoints
import Foundation
import Postgres

/// Moves filled COPY segments from the parser thread to a thread that sends them to PostgreSQL, so
/// that parsing and sending overlap on the two cores. Memory is bounded by the segment pool.
final class CopyPipeline: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [Segment] = []
    private var free: [Segment] = []
    private var closed = false
    private var finished = false
    private var failure: (any Error)?
    private let connection: PostgresConnection
    private let copySQL: [Int: String]
    /// Rows the server accepted, per section.
    private(set) var rowsSent: [Int: Int64] = [:]
    /// Whether the sender thread was started (it ends when the queue is closed or fails).
    private var started = false

    init(connection: PostgresConnection, copySQL: [Int: String], spareSegments: Int, segmentSize: Int) {
        self.connection = connection
        self.copySQL = copySQL
        for _ in 0..<spareSegments { free.append(Segment(section: 0, capacity: segmentSize)) }
    }

    /// Starts the sender thread. The thread keeps the pipeline alive until it ends, and nothing keeps
    /// the thread: a stored `Thread` whose closure captured `self` was a cycle that kept every
    /// finished pipeline (its segments and its connection) alive — one leaked connection per load.
    func start() {
        condition.lock()
        started = true
        condition.unlock()
        let thread = Thread { [self] in run() }
        thread.stackSize = 1 << 20
        thread.name = "shopbulk-copy"
        thread.start()
    }

    /// A clean segment for `section`, waiting while every segment is in flight.
    func take(section: Int) throws -> Segment {
        condition.lock()
        defer { condition.unlock() }
        while free.isEmpty && failure == nil { condition.wait() }
        if let failure { throw failure }
        let segment = free.removeLast()
        segment.section = section
        return segment
    }

    /// Hands a filled segment to the sender.
    func submit(_ segment: Segment) throws {
        condition.lock()
        defer { condition.unlock() }
        if let failure { throw failure }
        queue.append(segment)
        condition.broadcast()
    }

    /// Waits until every submitted segment is sent; rethrows the sender's error.
    func close() throws {
        condition.lock()
        closed = true
        condition.broadcast()
        while !finished { condition.wait() }
        let failure = self.failure
        condition.unlock()
        if let failure { throw failure }
    }

    /// Stops without sending what is queued (after an error elsewhere).
    func abandon() {
        condition.lock()
        queue.removeAll()
        closed = true
        condition.broadcast()
        while started && !finished { condition.wait() }
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty && !closed { condition.wait() }
            if queue.isEmpty {
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let segment = queue.removeFirst()
            condition.unlock()
            do {
                guard let sql = copySQL[segment.section] else { preconditionFailure("no COPY statement for section \(segment.section)") }
                let stored = try connection.copyFrom(sql, name: "copy into staging") { writer in
                    try writer.send(segment.buffer)
                    Failpoint.hit("copy.middle")
                }
                condition.lock()
                rowsSent[segment.section, default: 0] += stored
                segment.buffer.reset()
                free.append(segment)
                condition.broadcast()
                condition.unlock()
            } catch {
                condition.lock()
                failure = error
                queue.removeAll()
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
        }
    }
}
