import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A fixed set of threads for blocking calls (libpq, libcurl, file I/O), in the style of SwiftNIO's
/// `NIOThreadPool`: async code hands the work over and is suspended, so that no cooperative thread is
/// ever blocked and no thread is made per request. Threads start on demand, up to `maximumThreads`,
/// and then stay; work beyond that waits in order.
///
/// A pool's threads keep it alive: make pools for the life of the process (`shared`).
/// Work handed to the pool must not wait for other work of the same pool (it might be queued behind
/// the waiter); long-lived producer/consumer threads (the COPY sender) are started on their own.
public final class BlockingPool: @unchecked Sendable {
    /// The process's pool: every blocking call of shopbulk's libraries runs here. Threads start only
    /// when work waits and none is idle: one import uses about its operations + 2 (its workers, the
    /// control session, a download); the ceiling leaves room for many shops (or tests) in one process
    /// while still bounding what a runaway caller could start.
    public static let shared = BlockingPool(maximumThreads: 64, name: "shopbulk-blocking")

    public let maximumThreads: Int
    /// 4 MiB, set rather than left to the platform's default for secondary threads: recursive work
    /// (nested JSON, GraphQL documents) runs on these threads, to the depth the parsers accept.
    public static let threadStackSize = 4 << 20
    private let name: String
    private let condition = NSCondition()
    private var queue: [() -> Void] = []
    private var head = 0
    private var started = 0
    private var idle = 0

    public init(maximumThreads: Int, name: String) {
        precondition(maximumThreads > 0, "a pool needs at least one thread")
        self.maximumThreads = maximumThreads
        self.name = name
    }

    /// Threads started so far (never more than `maximumThreads`).
    public var threadCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return started
    }

    /// Queues `work`; it runs on one of the pool's threads.
    public func submit(_ work: @escaping @Sendable () -> Void) {
        condition.lock()
        queue.append(work)
        // Idle threads already signalled for earlier work are not free: start one when the waiting
        // work outnumbers the idle threads.
        let startOne = queue.count - head > idle && started < maximumThreads
        if startOne { started += 1 }
        let number = started
        condition.signal()
        condition.unlock()
        if startOne { startThread(number: number) }
    }

    /// Runs `work` on the pool and returns its result to the suspended caller.
    public func run<T: Sendable, E: Error>(_ work: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let result: Result<T, E> = await withCheckedContinuation { continuation in
            submit {
                do throws(E) { continuation.resume(returning: .success(try work())) } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    private func next() -> () -> Void {
        condition.lock()
        defer { condition.unlock() }
        while head == queue.count {
            idle += 1
            condition.wait()
            idle -= 1
        }
        let work = queue[head]
        head += 1
        if head > 64 && head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
        return work
    }

    private func startThread(number: Int) {
        let thread = Thread { [self] in
            while true { self.next()() }
        }
        thread.name = "\(name)-\(number)"
        thread.stackSize = Self.threadStackSize
        thread.start()
    }
}
