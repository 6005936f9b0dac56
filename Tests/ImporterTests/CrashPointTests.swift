import Failpoints
import Foundation
import Importer
import Postgres
import ShopifySimulator
import TestSupport
import Testing

/// `shopbulk import sim --full` as a child process, its stderr read line by line.
final class ImportProcess: @unchecked Sendable {
    let process = Process()
    private let lock = NSLock()
    private var lines: [String] = []
    private var lineWaiters: [(String, CheckedContinuation<Bool, Never>)] = []
    private var terminated: (status: Int32, signaled: Bool)?
    private var exited: (status: Int32, signaled: Bool)?
    private var exitWaiters: [CheckedContinuation<(status: Int32, signaled: Bool), Never>] = []
    private var stderrOpen = true
    /// The file whose creation lets a paused failpoint go on.
    let releaseFile = NSTemporaryDirectory() + "sb-release-\(UInt64.random(in: 0...UInt64.max))"

    convenience init(_ h: EngineHarness, failpoint: String? = nil, extra: [String] = []) throws {
        try self.init(
            arguments: [
                "import", "sim", "--full", "--window-days", "400", "--concurrency", "2", "--database-url", h.db.url,
                "--queries-dir", TestEnvironment.packageRoot + "/queries", "--migrations-dir", TestEnvironment.packageRoot + "/migrations",
                "--poll-interval", "0.05", "--max-poll-interval", "0.2", "--log-level", "error",
            ] + extra,
            environment: [h.tokenVariable: h.sim.legacyToken ?? ""], failpoint: failpoint)
    }

    /// `shopbulk ARGUMENTS` (or `launcher + [shopbulk] + ARGUMENTS`, e.g. `ip netns exec NS`) with
    /// `environment` added to the test's own.
    init(arguments: [String], environment extra: [String: String] = [:], failpoint: String? = nil, launcher: [String] = []) throws {
        if let tool = launcher.first {
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = Array(launcher.dropFirst()) + [TestEnvironment.shopbulkBinary] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: TestEnvironment.shopbulkBinary)
            process.arguments = arguments
        }
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in extra { environment[k] = v }
        environment["SHOPBULK_FAILPOINT"] = failpoint
        environment["SHOPBULK_FAILPOINT_RELEASE"] = releaseFile
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        let pipe = Pipe()
        process.standardError = pipe
        process.terminationHandler = { [self] p in
            lock.lock()
            terminated = (p.terminationStatus, p.terminationReason == .uncaughtSignal)
            lock.unlock()
            finishIfDone()
        }
        try process.run()
        let handle = pipe.fileHandleForReading
        Thread { [self] in
            var pending = Data()
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                pending.append(data)
                while let nl = pending.firstIndex(of: 10) {
                    let line = String(decoding: pending[pending.startIndex..<nl], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...nl)
                    add(line)
                }
            }
            lock.lock()
            stderrOpen = false
            let waiters = lineWaiters
            lineWaiters.removeAll()
            lock.unlock()
            for (_, w) in waiters { w.resume(returning: false) }
            finishIfDone()
        }.start()
    }

    /// The process has ended once it exited and its stderr reached end of file: a line written just
    /// before exit is then in `stderr` (the termination handler alone can run before the reader has it).
    private func finishIfDone() {
        lock.lock()
        guard let terminated, !stderrOpen, exited == nil else {
            lock.unlock()
            return
        }
        exited = terminated
        let waiters = exitWaiters
        exitWaiters.removeAll()
        lock.unlock()
        for w in waiters { w.resume(returning: terminated) }
    }

    private func add(_ line: String) {
        lock.lock()
        lines.append(line)
        var ready: [CheckedContinuation<Bool, Never>] = []
        lineWaiters.removeAll { text, w in
            if line.contains(text) {
                ready.append(w)
                return true
            }
            return false
        }
        lock.unlock()
        for w in ready { w.resume(returning: true) }
    }

    /// Waits until stderr has a line containing `text` (false if the process ended first).
    func waitForLine(containing text: String) async -> Bool {
        await withCheckedContinuation { c in
            lock.lock()
            if lines.contains(where: { $0.contains(text) }) {
                lock.unlock()
                c.resume(returning: true)
            } else if !stderrOpen {
                lock.unlock()
                c.resume(returning: false)
            } else {
                lineWaiters.append((text, c))
                lock.unlock()
            }
        }
    }

    /// Waits until stderr has a line containing `text`, at most `seconds` (false if the process
    /// ended or the time passed first).
    func waitForLine(containing text: String, seconds: Double) async -> Bool {
        let timer = Task {
            try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
            giveUp(waitingFor: text)
        }
        let found = await waitForLine(containing: text)
        timer.cancel()
        return found
    }

    /// Ends the waits for `text` with false.
    private func giveUp(waitingFor text: String) {
        lock.lock()
        let waiters = lineWaiters.filter { $0.0 == text }
        lineWaiters.removeAll { $0.0 == text }
        lock.unlock()
        for (_, w) in waiters { w.resume(returning: false) }
    }

    /// Lets a paused failpoint go on.
    func release() { FileManager.default.createFile(atPath: releaseFile, contents: nil) }

    /// Waits for the process to end.
    func wait() async -> (status: Int32, signaled: Bool) {
        await withCheckedContinuation { c in
            lock.lock()
            if let exited {
                lock.unlock()
                c.resume(returning: exited)
            } else {
                exitWaiters.append(c)
                lock.unlock()
            }
        }
    }

    var stderr: String {
        lock.lock()
        defer { lock.unlock() }
        return lines.joined(separator: "\n")
    }

    /// The end of stderr for a failure message; when the process crashed, the crash report's head
    /// (the error and the crashed thread's frames) instead of its register dump.
    func tail(_ count: Int = 1500) -> String {
        lock.lock()
        defer { lock.unlock() }
        if let start = lines.firstIndex(where: { $0.contains("Fatal error") || $0.contains("Program crashed") }) {
            return lines[max(0, start - 5)..<min(lines.count, start + 45)].joined(separator: "\n")
        }
        return String(lines.joined(separator: "\n").suffix(count))
    }
}

/// Kills the importer with SIGKILL at each named boundary where the ledger and the world can
/// disagree, reruns it, and checks that the result equals an uninterrupted import: no query text
/// submitted twice, no window loaded twice.
@Suite("Crash points: SIGKILL at each boundary, then a rerun", .serialized, .enabled(if: TestEnvironment.databaseTestsEnabled))
struct CrashPointTests {
    static func configure(_ c: inout SimulatorConfig) { c.speed = .duration(0.3) }

    /// The tables of an uninterrupted import of the same simulated shop (made once).
    static let reference = ReferenceTables()

    static func referenceTables() async throws -> [String: [String]] { try await reference.get() }

    static func crashAndResume(at point: String, faults: SimulatorFaults = SimulatorFaults()) async throws {
        let reference = try await Self.referenceTables()
        let h = try await EngineHarness.make(customers: 120, orders: 600) { c in
            configure(&c)
            c.faults = faults
        }
        do {
            let crashed = try ImportProcess(h, failpoint: point)
            let outcome = await crashed.wait()
            // The point was reached: the process killed itself there.
            #expect(outcome.signaled && outcome.status == SIGKILL, "\(point): exit \(outcome) \(crashed.stderr)")
            #expect(crashed.stderr.contains("failpoint \(point) reached"), "\(point): \(crashed.stderr)")

            let rerun = try ImportProcess(h)
            let resumed = await rerun.wait()
            #expect(!resumed.signaled && resumed.status == 0, "\(point): the rerun failed: \(rerun.stderr)")
            #expect(try h.count("SELECT count(*) FROM sync_state WHERE full_import_done_at IS NOT NULL") == 2)
            for table in ["customers", "orders", "order_lines"] {
                let rows = try h.dump(table)
                #expect(!rows.isEmpty)
                #expect(rows == reference[table], "\(point): \(table) differs from an uninterrupted import")
            }
            expectNothingSubmittedTwice(h.sim, point)
            #expect(
                try h.count(
                    "SELECT count(*) FROM (SELECT resource, window_start, window_end FROM sync_runs WHERE status IN ('loaded', 'partial', 'empty') AND parent_run_id IS NOT NULL GROUP BY 1, 2, 3 HAVING count(*) > 1) d"
                ) == 0, "\(point): a window was loaded twice")
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }

    @Test(
        "SIGKILL at a point of a window's life, then a rerun equals an uninterrupted import",
        arguments: [
            "submit.accepted", "submit.recorded", "poll", "download.10", "download.50", "download.90", "copy.middle",
            "merge.before-commit", "commit.before-ledger",
        ])
    func crashPoint(_ point: String) async throws {
        try await Self.crashAndResume(at: point)
    }

    @Test("SIGKILL inside the transaction that splits a timed-out window")
    func duringSplit() async throws {
        try await Self.crashAndResume(
            at: "ledger.replace", faults: SimulatorFaults(operations: [OperationFault(operation: 1, kind: .timeout)]))
    }

    @Test("SIGKILL while a failed window waits for its retry")
    func duringRetryBackoff() async throws {
        try await Self.crashAndResume(
            at: "retry.backoff", faults: SimulatorFaults(operations: [OperationFault(operation: 1, kind: .internalServerError)]))
    }

    @Test("every failpoint the code has is covered by a test here")
    func allPointsCovered() {
        let covered: Set<String> = [
            "submit.accepted", "submit.recorded", "poll", "download.10", "download.50", "download.90", "copy.middle",
            "merge.before-commit", "commit.before-ledger", "ledger.replace", "retry.backoff",
        ]
        #expect(Set(Failpoint.all) == covered)
    }
}

/// Nothing was submitted twice: a query text (which names its window) goes to Shopify again only
/// after the operation before it with that text failed there (a retry), never while one could still
/// deliver it (a split window's text may end failed: its halves carry on).
func expectNothingSubmittedTwice(_ sim: ShopifySimulator, _ context: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let operations = sim.operations.filter { !$0.foreign }.sorted { $0.number < $1.number }
    #expect(!operations.isEmpty, sourceLocation: sourceLocation)
    for (text, ops) in Dictionary(grouping: operations, by: \.query) {
        let label = String(text.prefix(80))
        for op in ops.dropLast() {
            #expect(
                ["FAILED", "CANCELED", "EXPIRED"].contains(op.status), "\(context): \(label)… submitted again after \(op.status)",
                sourceLocation: sourceLocation)
        }
    }
}

/// An uninterrupted import's tables, computed once for all crash and interrupt tests.
actor ReferenceTables {
    private var task: Task<[String: [String]], any Error>?

    func get() async throws -> [String: [String]] {
        if let task { return try await task.value }
        let task = Task {
            let clean = try await EngineHarness.make(customers: 120, orders: 600, function: "crashReference")
            do {
                var options = EngineHarness.fastOptions
                options.windowDays = 400
                _ = try await clean.full(options)
                var tables: [String: [String]] = [:]
                for table in ["customers", "orders", "order_lines"] { tables[table] = try clean.dump(table) }
                await clean.stop()
                return tables
            } catch {
                await clean.stop()
                throw error
            }
        }
        self.task = task
        return try await task.value
    }
}

/// Ctrl-C and SIGTERM during an import: exit code, time to exit, and a resumed import that equals an
/// uninterrupted one.
@Suite("Interrupting an import", .serialized, .enabled(if: TestEnvironment.databaseTestsEnabled))
struct InterruptTests {
    static func interrupt(at point: String, signal signo: Int32) async throws {
        let reference = try await CrashPointTests.referenceTables()
        let h = try await EngineHarness.make(customers: 120, orders: 600) { c in CrashPointTests.configure(&c) }
        do {
            let run = try ImportProcess(h, failpoint: "\(point):pause")
            let reached = await run.waitForLine(containing: "failpoint \(point) paused")
            #expect(reached, "\(point) was never reached: \(run.stderr)")
            let sent = ContinuousClock.now
            kill(run.process.processIdentifier, signo)
            run.release()
            let outcome = await run.wait()
            let took = ContinuousClock.now - sent
            #expect(!outcome.signaled && outcome.status == 128 + signo, "exit \(outcome): \(run.stderr)")
            #expect(took < .seconds(5), "took \(took) to exit")
            print("interrupt: signal \(signo) at \(point): exit \(outcome.status) after \(took)")
            #expect(run.stderr.contains("run the same command again to continue"))
            // Nothing half-done: no run is stuck in a state the next import cannot pick up.
            #expect(try h.count("SELECT count(*) FROM sync_runs WHERE status IN ('failed', 'canceled')") == 0)

            let rerun = try ImportProcess(h)
            let resumed = await rerun.wait()
            #expect(resumed.status == 0 && !resumed.signaled, "the resumed import failed: \(rerun.stderr)")
            for table in ["customers", "orders", "order_lines"] {
                let rows = try h.dump(table)
                #expect(!rows.isEmpty)
                #expect(rows == reference[table], "\(table) differs from an uninterrupted import")
            }
            expectNothingSubmittedTwice(h.sim, "\(point) \(signo)")
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }

    @Test("SIGINT during a download: exit 130 within 5 s, the rerun completes it")
    func sigintDuringDownload() async throws {
        try await Self.interrupt(at: "download.50", signal: SIGINT)
    }

    @Test("SIGINT between the merge and COMMIT: exit 130 within 5 s, the rerun completes it")
    func sigintDuringCommit() async throws {
        try await Self.interrupt(at: "merge.before-commit", signal: SIGINT)
    }

    @Test("SIGTERM while polling: exit 143 within 5 s, the rerun completes it")
    func sigtermWhilePolling() async throws {
        try await Self.interrupt(at: "poll", signal: SIGTERM)
    }
}
