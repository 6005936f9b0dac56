import Foundation
import Logging
import ShopifyAdmin

/// Live progress of an import. On a terminal: one line per resource (a bar, windows done of all,
/// objects, bytes of what Shopify announced, rows/s and an ETA) and one line per operation in flight
/// (at most five), redrawn in place twice a second; every line is cut to the terminal's width and
/// the picture to its height, so that nothing wraps or scrolls and a redraw never leaves a copy
/// behind. Elsewhere (a log file, a pipe): a
/// log line per window event and a heartbeat line per resource every 30 s.
public final class ProgressBoard: @unchecked Sendable {
    public struct Entry: Sendable {
        public var label: String
        /// What the entry counts towards: `shop resource` for a window.
        public var group: String
        public var status: String = "planned"
        public var objects: Int64 = 0
        public var bytes: Int64 = 0
        public var fileSize: Int64?
        public var rows: Int = 0
        public var started = Date()
        public var finished: Date?

        init(label: String) {
            self.label = label
            self.group = label
        }

        var runStatus: RunStatus? { RunStatus(rawValue: status) }
        /// Replaced by other windows (halves, a retry): counts for nothing.
        var isReplaced: Bool { runStatus.map { RunStatus.replaced.contains($0) } ?? false }
        var isDone: Bool { runStatus.map { RunStatus.done.contains($0) } ?? false }
        var isInFlight: Bool { finished == nil && status != RunStatus.planned.rawValue }
    }

    /// One resource's progress, summed over its windows.
    struct Group: Equatable {
        var name: String
        var windows = 0
        var done = 0
        var failed = 0
        var objects: Int64 = 0
        var bytes: Int64 = 0
        var announced: Int64 = 0
        var rows = 0
        var started: Date
        var finished: Date?
        /// Windows done plus the downloaded share of those loading, over all windows.
        var fraction: Double = 0

        /// Seconds left at the rate so far, when there is a rate to go by.
        func eta(now: Date) -> Double? {
            guard finished == nil, fraction > 0.01, fraction < 1 else { return nil }
            return now.timeIntervalSince(started) * (1 - fraction) / fraction
        }
    }

    private let lock = NSLock()
    private var entries: [Int64: Entry] = [:]
    private var order: [Int64] = []
    private let live: Bool
    private let logger: Logger
    private let heartbeat: Double
    private let columns: @Sendable () -> Int
    private let rows: @Sendable () -> Int
    private var drawnLines = 0
    /// The last picture is drawn: a redraw that was already under way when `finish` came draws nothing.
    private var drewFinal = false
    /// Finished resources are forgotten once the board holds more than this many entries (a worker
    /// runs for months; an import's board holds its own windows, no limit); `pruneAt` doubles past
    /// what stays, so that pruning costs O(1) per update.
    private let maximumEntries: Int
    private let forgetAfter: Double
    private var pruneAt: Int
    private var watchers: [(id: Int, predicate: @Sendable ([Entry]) -> Bool, continuation: CheckedContinuation<Bool, Never>)] = []
    private var nextWatcher = 0
    private var thread: Thread?
    private var stopped = false
    private let drawLock = NSLock()

    /// `live`: redraw on stderr (a terminal); else log events and a heartbeat every `heartbeat`
    /// seconds. `columns`, `rows`: the terminal's size (asked at every redraw, so a resize is
    /// followed). `maximumEntries`: beyond it, the windows of resources whose windows have all
    /// finished, `forgetAfter` seconds ago or more, are forgotten (a long-running worker's board).
    public init(
        live: Bool = isatty(2) == 1, logger: Logger, heartbeat: Double = 30,
        columns: @escaping @Sendable () -> Int = ProgressBoard.terminalColumns,
        rows: @escaping @Sendable () -> Int = ProgressBoard.terminalRows, maximumEntries: Int = .max, forgetAfter: Double = 60
    ) {
        self.live = live
        self.logger = logger
        self.heartbeat = heartbeat
        self.columns = columns
        self.rows = rows
        self.maximumEntries = maximumEntries
        self.forgetAfter = forgetAfter
        self.pruneAt = maximumEntries
        let thread = Thread { [weak self] in
            var lastBeat = Date()
            while let self, !self.isStopped {
                if live {
                    self.draw()
                } else if Date().timeIntervalSince(lastBeat) >= heartbeat {
                    lastBeat = Date()
                    self.beat()
                }
                Thread.sleep(forTimeInterval: 0.5)  // the redraw cadence, not a synchronisation
            }
        }
        thread.name = "shopbulk-progress"
        self.thread = thread
        thread.start()
    }

    /// The width of the terminal on stderr (`COLUMNS`, else 80, when it cannot be asked).
    public static let terminalColumns: @Sendable () -> Int = {
        var size = winsize()
        if ioctl(2, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return Int(ProcessInfo.processInfo.environment["COLUMNS"] ?? "") ?? 80
    }

    /// The height of the terminal on stderr (`LINES`, else 24, when it cannot be asked).
    public static let terminalRows: @Sendable () -> Int = {
        var size = winsize()
        if ioctl(2, UInt(TIOCGWINSZ), &size) == 0, size.ws_row > 0 { return Int(size.ws_row) }
        return Int(ProcessInfo.processInfo.environment["LINES"] ?? "") ?? 24
    }

    private var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    /// Changes the entry of run `id` (created on first use with `label`).
    public func update(_ id: Int64, label: @autoclosure () -> String, _ change: (inout Entry) -> Void) {
        lock.lock()
        // A window is named when it is planned; a nameless first update (a window already forgotten)
        // gets its run id, never an empty name.
        var entry = entries[id] ?? Entry(label: Self.name(label(), id: id))
        if entries[id] == nil { order.append(id) }
        let before = entry.status
        change(&entry)
        // An operation's time counts from when it left `planned` (windows are listed up front).
        if before == RunStatus.planned.rawValue && entry.status != before { entry.started = Date() }
        if RunStatus(rawValue: entry.status)?.isTerminal == true, entry.finished == nil {
            entry.finished = Date()
        }
        entries[id] = entry
        if entries.count > pruneAt { prune() }
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
        if !live && before != entry.status && entry.status != RunStatus.planned.rawValue {
            logger.info(
                "operation \(entry.status)",
                metadata: [
                    "run": "\(id)", "what": "\(entry.label)", "objects": "\(entry.objects)", "bytes": "\(entry.bytes)",
                    "rows": "\(entry.rows)",
                ])
        }
    }

    static func name(_ label: String, id: Int64) -> String { label.isEmpty ? "run \(id)" : label }

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

    /// Forgets the entries of resources whose windows have all finished, at least `forgetAfter`
    /// seconds ago (a failed window is `failed` for a moment before it is `backoff`), the lock held;
    /// the next prune comes when the board has doubled from what stays.
    private func prune() {
        let before = Date().addingTimeInterval(-forgetAfter)
        var open = Set<String>()
        for e in entries.values where e.finished.map({ $0 > before }) ?? true { open.insert(e.group) }
        order.removeAll { id in
            guard let e = entries[id], !open.contains(e.group) else { return false }
            entries[id] = nil
            return true
        }
        pruneAt = max(maximumEntries, 2 * entries.count)
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

    /// Stops redrawing and leaves the last picture on screen (the resources, nothing in flight).
    public func finish() {
        lock.lock()
        let wasStopped = stopped
        stopped = true
        lock.unlock()
        guard !wasStopped else { return }
        if live { draw(final: true) }
    }

    // MARK: - Drawing

    /// The resources in the order they first appeared, each summed over its windows in one pass.
    static func groups(_ entries: [Entry]) -> [Group] {
        var names: [String] = []
        var byName: [String: Group] = [:]
        /// Per group: the downloaded share of its unfinished windows, and whether all have finished.
        var partial: [String: Double] = [:]
        var allFinished: [String: Bool] = [:]
        for e in entries where !e.isReplaced {
            var g = byName[e.group] ?? Group(name: e.group, started: e.started)
            if byName[e.group] == nil { names.append(e.group) }
            g.windows += 1
            if e.isDone { g.done += 1 }
            if let s = e.runStatus, RunStatus.unsuccessful.contains(s) { g.failed += 1 }
            g.objects += e.objects
            g.bytes += e.bytes
            g.announced += e.fileSize ?? 0
            g.rows += e.rows
            g.started = min(g.started, e.started)
            if let finished = e.finished {
                g.finished = max(g.finished ?? finished, finished)
            } else {
                allFinished[e.group] = false
                if !e.isDone, let size = e.fileSize, size > 0 { partial[e.group, default: 0] += min(1, Double(e.bytes) / Double(size)) }
            }
            byName[e.group] = g
        }
        return names.map { name in
            var g = byName[name]!
            g.fraction = g.windows > 0 ? min(1, (Double(g.done) + partial[name, default: 0]) / Double(g.windows)) : 0
            if allFinished[name] == false { g.finished = nil }
            return g
        }
    }

    /// The picture: a line per resource, then a line per operation in flight (five at most), cut to
    /// `height` less one lines (the cursor stays on the line below; a picture as tall as the terminal
    /// would scroll and leave a copy) and to `width` less one columns.
    static func lines(_ entries: [Entry], width: Int, height: Int = 1_000, now: Date = Date(), final: Bool = false) -> [String] {
        let groups = Self.groups(entries)
        let nameWidth = min(28, groups.map(\.name.count).max() ?? 0)
        var lines = groups.map { format($0, nameWidth: nameWidth, now: now) }
        if !final {
            let flying = entries.filter { $0.isInFlight && !$0.isReplaced }
            lines += flying.prefix(5).map { format($0, now: now) }
            if flying.count > 5 { lines.append("  … and \(flying.count - 5) more in flight") }
        }
        let tall = max(2, height - 1)
        if lines.count > tall {
            lines = lines.prefix(tall - 1) + ["… and \(lines.count - tall + 1) more lines (a taller terminal shows them)"]
        }
        // Cut to the width (less one: a full last column makes some terminals wrap).
        let room = max(10, width - 1)
        return lines.map { $0.count > room ? String($0.prefix(room - 1)) + "…" : $0 }
    }

    static func format(_ g: Group, nameWidth: Int, now: Date) -> String {
        let filled = Int((g.fraction * 20).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: 20 - filled)
        let elapsed = (g.finished ?? now).timeIntervalSince(g.started)
        let rate = elapsed > 0 ? Double(g.rows) / elapsed : 0
        let size = g.announced > g.bytes ? " of \(HumanFormat.bytes(g.announced))" : ""
        let name = g.name.visiblyEscaped
        let padded = name.count < nameWidth ? name + String(repeating: " ", count: nameWidth - name.count) : name
        var text = "\(padded) [\(bar)] \(String(format: "%3d", Int(g.fraction * 100)))%  windows \(g.done)/\(g.windows)"
        if g.failed > 0 { text += " (\(g.failed) failed)" }
        text += "  \(g.objects) objects  \(HumanFormat.bytes(g.bytes))\(size)  \(Int(rate)) rows/s"
        if let eta = g.eta(now: now) {
            text += "  ETA \(duration(eta))"
        } else if g.finished != nil {
            text += "  done in \(duration(elapsed))"
        }
        return text
    }

    static func format(_ e: Entry, now: Date) -> String {
        let size = e.fileSize.map { " of \(HumanFormat.bytes($0))" } ?? ""
        return
            "  \(e.label.visiblyEscaped)  \(e.status.visiblyEscaped)  \(e.objects) objects  \(HumanFormat.bytes(e.bytes))\(size)  \(duration(now.timeIntervalSince(e.started)))"
    }

    /// `42s`, `3m05s`, `2h07m`.
    static func duration(_ seconds: Double) -> String {
        let s = Int(max(0, seconds).rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60)
    }

    private func draw(final: Bool = false) {
        drawLock.lock()
        defer { drawLock.unlock() }
        guard !drewFinal else { return }
        drewFinal = final
        // The last picture is not cut: nothing redraws it, so it may scroll.
        let lines = Self.lines(snapshot(), width: columns(), height: final ? .max : rows(), final: final)
        var out = "\r"
        if drawnLines > 0 { out += "\u{1B}[\(drawnLines)A" }
        for line in lines { out += "\u{1B}[2K" + line + "\n" }
        // Clear what an earlier, longer picture left below.
        out += "\u{1B}[J"
        drawnLines = lines.count
        FileHandle.standardError.write(Data(out.utf8))
    }

    /// The heartbeat without a terminal: one log line per resource.
    private func beat() {
        let now = Date()
        for g in Self.groups(snapshot()) where g.finished == nil {
            let elapsed = now.timeIntervalSince(g.started)
            logger.info(
                "progress",
                metadata: [
                    "what": "\(g.name)", "windows": "\(g.done)/\(g.windows)", "objects": "\(g.objects)", "bytes": "\(g.bytes)",
                    "rows": "\(g.rows)", "rows_per_second": "\(elapsed > 0 ? Int(Double(g.rows) / elapsed) : 0)",
                    "eta": "\(g.eta(now: now).map(Self.duration) ?? "-")",
                ])
        }
    }
}
