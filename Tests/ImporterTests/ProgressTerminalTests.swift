import Foundation
import Logging
import ShopifySimulator
import TestSupport
import Testing

@testable import Importer

/// A terminal of a given size (a private tmux server) running one command.
struct TmuxTerminal {
    let socket = "sbtest-\(UInt32.random(in: 0...UInt32.max))"
    let width: Int
    let height: Int

    /// A tmux command; its output. (The first one starts the server, a daemon: hence `waitpid`.)
    @discardableResult
    func tmux(_ arguments: [String]) throws -> String {
        let output = NSTemporaryDirectory() + "\(socket)-\(UInt32.random(in: 0...UInt32.max)).out"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let r = try runDaemonizing(Self.executable, ["-L", socket, "-f", "/dev/null"] + arguments, outputFile: output)
        guard r.status == 0 else { throw TestEnvironmentError(message: "tmux \(arguments.prefix(3)): \(r.output)") }
        return r.output
    }

    static let executable =
        ["/usr/bin/tmux", "/bin/tmux", "/usr/local/bin/tmux"].first { FileManager.default.isExecutableFile(atPath: $0) }
        ?? "/usr/bin/tmux"

    /// Runs `command` (argv) in the terminal with `environment`, recording every byte it writes to
    /// `raw`, and returns the whole screen and scrollback (wrapped lines joined) once it has ended.
    func run(_ command: [String], environment: [String: String], raw: String) throws -> (screen: String, status: String) {
        let quoted = command.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        // Waits for a line on its stdin before it starts (so that recording is on from the first
        // byte), then tells the test it ended and keeps the pane open for the capture.
        let script = "read go; \(quoted); echo \"exit status $?\"; tmux -L \(socket) -f /dev/null wait-for -S ended; read done"
        var arguments = ["new-session", "-d", "-s", "board", "-x", String(width), "-y", String(height)]
        for (k, v) in environment { arguments += ["-e", "\(k)=\(v)"] }
        try tmux(arguments + ["sh", "-c", script])
        // kill-server alone left tmux 3.3a's server (and the pane's shell) running after the test:
        // the session goes first, and the server ends with its last session.
        defer {
            _ = try? tmux(["kill-session", "-t", "board"])
            _ = try? tmux(["kill-server"])
        }
        try tmux(["pipe-pane", "-t", "board", "-o", "cat >> '\(raw)'"])
        try tmux(["send-keys", "-t", "board", "Enter"])
        try tmux(["wait-for", "ended"])
        let screen = try tmux(["capture-pane", "-t", "board", "-p", "-J", "-S", "-", "-E", "-"])
        let status = screen.split(separator: "\n").last { $0.hasPrefix("exit status") }.map(String.init) ?? "(no exit status)"
        return (screen, status)
    }
}

/// The import's progress board on a real terminal: redrawn in place at two widths (one narrower
/// than its lines), no copies left in the scrollback, one line per resource with its bar.
@Suite("The progress board on a terminal (tmux)", .serialized, .enabled(if: TestEnvironment.databaseTestsEnabled))
struct ProgressTerminalTests {
    @Test(
        "redrawn in place at 150×45, at 60×20 and at 100×4: one line per resource, nothing wider or taller than the terminal, no copies",
        arguments: [
            (150, 45), (60, 20), (100, 4),
        ])
    func boardInTmux(width: Int, height: Int) async throws {
        let h = try await EngineHarness.make(customers: 300, orders: 1200) { c in c.speed = .duration(1.5) }
        do {
            let raw = NSTemporaryDirectory() + "sb-board-\(UInt32.random(in: 0...UInt32.max)).raw"
            defer { try? FileManager.default.removeItem(atPath: raw) }
            let terminal = TmuxTerminal(width: width, height: height)
            let (screen, status) = try terminal.run(
                [
                    TestEnvironment.shopbulkBinary, "import", "sim", "--full", "--window-days", "180", "--concurrency", "3",
                    "--database-url", h.db.url, "--queries-dir", TestEnvironment.packageRoot + "/queries",
                    "--migrations-dir", TestEnvironment.packageRoot + "/migrations", "--poll-interval", "0.1", "--max-poll-interval", "0.3",
                    "--log-level", "error",
                ], environment: [h.tokenVariable: h.sim.legacyToken ?? ""], raw: raw)
            #expect(status == "exit status 0", "\(screen)")
            let lines = screen.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            // One line per resource in the whole scrollback: a redraw left no copy behind.
            for resource in ["customers", "orders"] {
                let board = lines.filter { $0.hasPrefix("sim \(resource)") && $0.contains("[") }
                #expect(board.count == 1, "\(width) columns: \(board.count) lines for \(resource):\n\(screen)")
                #expect(board.first?.contains("100%") == true, "\(screen)")
            }
            // The board's lines (not the report printed after it) fit: none wrapped.
            let boardLines = lines.filter { $0.hasPrefix("sim customers") || $0.hasPrefix("sim orders") || $0.hasPrefix("  sim ") }
            #expect(
                boardLines.count >= 2 && boardLines.allSatisfy { $0.count < width }, "a line is wider than \(width) columns:\n\(screen)")
            // The situation arose: the board was drawn many times while operations were in flight
            // (cursor-up sequences of a redraw, and a line of an operation), and at 60 columns lines were cut.
            let bytes = String(decoding: (FileManager.default.contents(atPath: raw) ?? Data()), as: UTF8.self)
            let redraws = bytes.matches(of: try Regex("\u{1B}\\[[0-9]+A")).count
            #expect(redraws >= 4, "only \(redraws) redraws recorded")
            if height > 5 {
                #expect(bytes.contains("  sim orders ") || bytes.contains("  sim customers "), "no operation line was ever drawn")
            }
            if width < 100 { #expect(bytes.contains("…"), "nothing was cut at \(width) columns") }
            // Two resources and up to three operations are five lines: at 4 rows, with two or more in
            // flight, the picture was cut to three (the last saying what it left out), or it would
            // have scrolled.
            if height < 7 {
                #expect(bytes.contains("more lines (a taller terminal shows them)"), "the picture was never cut to \(height) rows")
            }
            print("progress board at \(width)x\(height) after the import:\n\(lines.filter { !$0.isEmpty }.joined(separator: "\n"))")
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }
}

/// Without a terminal: a log line per window event, and a heartbeat per resource.
@Suite("The progress board without a terminal")
struct ProgressLogTests {
    @Test("a log line per status change and a heartbeat line per unfinished resource")
    func eventsAndHeartbeat() async throws {
        let capture = SecurityLogCapture()
        let board = ProgressBoard(live: false, logger: capture.logger, heartbeat: 0.5)
        defer { board.finish() }
        for id in Int64(1)...3 {
            board.update(id, label: "shop orders window \(id)") { $0.group = "shop orders" }
        }
        board.update(1, label: "") { $0.status = RunStatus.running.rawValue }
        board.update(1, label: "") { $0.objects = 10 }
        board.update(2, label: "") { $0.status = RunStatus.loaded.rawValue }
        // Planned windows are listed silently; each change of status is one line, progress alone none.
        #expect(capture.text.split(separator: "\n").filter { $0.contains("operation ") }.count == 2, "\(capture.text)")
        #expect(capture.text.contains("info operation running") && capture.text.contains("what=shop orders window 1"))
        // The heartbeat has no event to wait on but time: look for it, at most 10 s.
        let deadline = ContinuousClock.now + .seconds(10)
        while !capture.text.contains("info progress") && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        let beat = try #require(capture.text.split(separator: "\n").first { $0.contains("info progress") }, "no heartbeat: \(capture.text)")
        #expect(beat.contains("what=shop orders") && beat.contains("windows=1/3") && beat.contains("objects=10"), "\(beat)")
    }
}

/// The board's picture and memory: cut to the terminal's height, and a long-running worker's board
/// forgets resources that have finished.
@Suite("The progress board's bounds")
struct ProgressBoundsTests {
    /// `groups` resources of `windows` windows each, `flying` of the first resource's in flight.
    static func entries(groups: Int, windows: Int, flying: Int) -> [ProgressBoard.Entry] {
        let board = ProgressBoard(live: false, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        defer { board.finish() }
        var id: Int64 = 0
        for g in 0..<groups {
            for w in 0..<windows {
                id += 1
                board.update(id, label: "shop r\(g) window \(w)") {
                    $0.group = "shop r\(g)"
                    if g == 0 && w < flying { $0.status = RunStatus.running.rawValue }
                }
            }
        }
        return board.snapshot()
    }

    @Test("a picture taller than the terminal is cut to its height less one, the last line saying so")
    func height() {
        let entries = Self.entries(groups: 10, windows: 5, flying: 4)
        // 10 resources and 4 operations in flight: 14 lines on a tall terminal.
        #expect(ProgressBoard.lines(entries, width: 200, height: 50).count == 14)
        let cut = ProgressBoard.lines(entries, width: 200, height: 8)
        #expect(cut.count == 7, "\(cut)")
        #expect(cut.last == "… and 8 more lines (a taller terminal shows them)", "\(cut)")
        #expect(cut.first?.hasPrefix("shop r0 ") == true)
        // The smallest terminal still gets one line and the note.
        #expect(ProgressBoard.lines(entries, width: 200, height: 1).count == 2)
    }

    @Test("beyond maximumEntries, the windows of finished resources are forgotten; an unfinished one's stay")
    func prune() {
        let board = ProgressBoard(
            live: false, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }, maximumEntries: 100, forgetAfter: 0)
        defer { board.finish() }
        var id: Int64 = 0
        // One resource stays unfinished throughout (a window running), with 50 finished windows.
        for w in 0..<51 {
            id += 1
            board.update(id, label: "shop open window \(w)") {
                $0.group = "shop open"
                $0.status = (w == 0 ? RunStatus.running : RunStatus.loaded).rawValue
            }
        }
        var peak = 0
        // 40 jobs of 10 windows each that all finish: 451 entries without pruning.
        for job in 0..<40 {
            for w in 0..<10 {
                id += 1
                board.update(id, label: "shop job\(job) window \(w)") {
                    $0.group = "shop job\(job)"
                    $0.status = RunStatus.loaded.rawValue
                }
                peak = max(peak, board.snapshot().count)
            }
        }
        let left = board.snapshot()
        #expect(peak <= 2 * 100 + 1, "the board held \(peak) entries")
        #expect(left.count < 200, "\(left.count) entries left")
        // The situation arose: finished jobs were forgotten, and the open resource kept every window.
        #expect(!left.contains { $0.group == "shop job0" })
        #expect(left.filter { $0.group == "shop open" }.count == 51)
        #expect(left.contains { $0.group == "shop job39" })
    }
}
