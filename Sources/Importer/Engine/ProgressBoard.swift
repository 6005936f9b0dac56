import Foundation
import Logging

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
        lock.unlock()
        if !live && before != entry.status {
            logger.info(
                "operation \(entry.status)",
                metadata: [
                    "run": "\(id)", "what": "\(entry.label)", "objects": "\(entry.objects)", "bytes": "\(entry.bytes)",
                    "rows": "\(entry.rows)",
                ])
        }
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
            format: "%-44@ %-11@ %9lld objects  %@%@  %9d rows  %7.0f rows/s  %6.1fs", e.label as NSString, e.status as NSString, e.objects,
            HumanFormat.bytes(e.bytes) as NSString, size as NSString, e.rows, rate, elapsed)
    }

}
