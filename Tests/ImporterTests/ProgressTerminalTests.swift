import Foundation
import Importer
import ShopifySimulator
import TestSupport
import Testing

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
        defer { _ = try? tmux(["kill-server"]) }
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
        "redrawn in place at 150×45 and at 60×20: one line per resource, nothing wider than the terminal, no copies",
        arguments: [
            (150, 45), (60, 20),
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
            #expect(bytes.contains("  sim orders ") || bytes.contains("  sim customers "), "no operation line was ever drawn")
            if width < 100 { #expect(bytes.contains("…"), "nothing was cut at \(width) columns") }
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
