import Foundation
import Logging
import ShopifyAdmin

/// Live progress of the operations of a run: on a terminal one redrawn line per shop and operation
/// (status, objects counted by Shopify, bytes of fileSize, rows loaded, rate, elapsed); otherwise
/// plain log lines when something changes.
public final class ProgressBoard: @unchecked Sendable {
    public struct Entry: Sendable {
        public var label: String
        public var status: String = "planned"
        public var objects: Int64 = 0
        public var bytes: Int64 = 0
        public var fileSize: Int64?
        public var rows: Int = 0
        public var started = Date()
        public var finished: Date?
    }

    private let lock = NSLock()
    private var entries: [Int64: Entry] = [:]
    private var order: [Int64] = []
    private let live: Bool
    private let logger: Logger
    private var drawnLines = 0
    private var watchers: [(id: Int, predicate: @Sendable ([Entry]) -> Bool, continuation: CheckedContinuation<Bool, Never>)] = []
    private var nextWatcher = 0
    private var thread: Thread?
    private var stopped = false

    /// `live`: redraw lines on stderr (a terminal); else log changes.
    public init(live: Bool = isatty(2) == 1, logger: Logger) {
        self.live = live
        self.logger = logger
        if live {
            let thread = Thread { [weak self] in
                while let self, !self.isStopped {
                    self.draw()
                    Thread.sleep(forTimeInterval: 0.5)
                }
            }
            self.thread = thread
            thread.start()
        }
    }

    private var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    /// Changes the entry of run `id` (created on first use with `label`).
    public func update(_ id: Int64, label: @autoclosure () -> String, _ change: (inout Entry) -> Void) {
        lock.lock()
        var entry = entries[id] ?? Entry(label: label())
        if entries[id] == nil { order.append(id) }
        let before = entry.status
        change(&entry)
        if RunStatus(rawValue: entry.status)?.isTerminal == true, entry.finished == nil {
            entry.finished = Date()
        }
        entries[id] = entry
        // update() runs for every downloaded chunk: the entries are gathered only when someone waits.
        var ready: [CheckedContinuation<Bool, Never>] = []
        if !watchers.isEmpty {
            let current = order.compactMap { entries[$0] }
            watchers.removeAll { watcher in
                guard watcher.predicate(current) else { return false }
                ready.append(watcher.continuation)
                return true
            }
        }
        lock.unlock()
        for continuation in ready { continuation.resume(returning: true) }
        if !live && before != entry.status {
            logger.info(
                "operation \(entry.status)",
                metadata: [
                    "run": "\(id)", "what": "\(entry.label)", "objects": "\(entry.objects)", "bytes": "\(entry.bytes)",
                    "rows": "\(entry.rows)",
                ])
        }
    }

    /// Returns true once the board's entries satisfy `predicate` (checked now and at every change),
    /// false after `timeout`: tests wait for an event ("two windows are in backoff") instead of sleeping.
    @discardableResult
    public func waitUntil(timeout: Duration = .seconds(120), _ predicate: @escaping @Sendable ([Entry]) -> Bool) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            lock.lock()
            if predicate(order.compactMap { entries[$0] }) {
                lock.unlock()
                continuation.resume(returning: true)
                return
            }
            let id = nextWatcher
            nextWatcher += 1
            watchers.append((id, predicate, continuation))
            lock.unlock()
            Task { [weak self] in
                try? await Task.sleep(for: timeout)
                self?.expire(watcher: id)
            }
        }
    }

    private func expire(watcher id: Int) {
        lock.lock()
        let index = watchers.firstIndex { $0.id == id }
        let continuation = index.map { watchers.remove(at: $0).continuation }
        lock.unlock()
        continuation?.resume(returning: false)
    }

    public func snapshot() -> [Entry] {
        lock.lock()
        defer { lock.unlock() }
        return order.compactMap { entries[$0] }
    }

    /// Stops redrawing and leaves the last picture on screen.
    public func finish() {
        lock.lock()
        stopped = true
        lock.unlock()
        if live { draw() }
    }

    private let drawLock = NSLock()

    private func draw() {
        drawLock.lock()
        defer { drawLock.unlock() }
        let lines = snapshot().suffix(12).map(Self.format)
        var out = ""
        if drawnLines > 0 { out += "\u{1B}[\(drawnLines)A" }
        for line in lines { out += "\u{1B}[2K" + line + "\n" }
        drawnLines = lines.count
        FileHandle.standardError.write(Data(out.utf8))
    }

    static func format(_ e: Entry) -> String {
        let elapsed = (e.finished ?? Date()).timeIntervalSince(e.started)
        let rate = elapsed > 0 ? Double(e.rows) / elapsed : 0
        let size = e.fileSize.map { " of \(HumanFormat.bytes($0))" } ?? ""
        return String(
            format: "%-44@ %-11@ %9lld objects  %@%@  %9d rows  %7.0f rows/s  %6.1fs", e.label.visiblyEscaped as NSString,
            e.status.visiblyEscaped as NSString, e.objects,
            HumanFormat.bytes(e.bytes) as NSString, size as NSString, e.rows, rate, elapsed)
    }

}
