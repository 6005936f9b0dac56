import ArgumentParser
import Dispatch
import Foundation

/// Ctrl-C and SIGTERM during long work: the work's task is cancelled (the engine stops submitting,
/// aborts a download in flight, rolls back a load that has not committed and leaves every run
/// resumable); the process then exits with 128 + the signal (130, 143). If the work has not ended
/// 5 s after the signal, or a second signal comes, it exits at once: the ledger is durable, so the
/// next run resumes either way.
enum Interruption {
    struct Interrupted: Error, CustomStringConvertible {
        var signal: Int32
        var description: String {
            "interrupted by \(signal == SIGINT ? "SIGINT" : "SIGTERM"); nothing half-done was committed: run the same command again to continue"
        }
    }

    /// Runs `body` so that SIGINT / SIGTERM cancel it; throws `ExitCode(128 + signal)` after one.
    static func run<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task { try await body() }
        let received = SignalBox()
        var sources: [DispatchSourceSignal] = []
        for signo in [SIGINT, SIGTERM] {
            signal(signo, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signo, queue: .global())
            source.setEventHandler {
                // `_exit`: other threads are inside libcurl, OpenSSL and libpq; exit handlers could
                // crash under them and turn 130 into 139. The ledger needs no flushing.
                if received.set(signo) {
                    task.cancel()
                    DispatchQueue.global().asyncAfter(deadline: .now() + 5) { _exit(128 + signo) }
                } else {
                    _exit(128 + signo)
                }
            }
            source.resume()
            sources.append(source)
        }
        defer {
            for source in sources { source.cancel() }
            signal(SIGINT, SIG_DFL)
            signal(SIGTERM, SIG_DFL)
        }
        do {
            let value = try await task.value
            if let signo = received.value { throw interrupted(signo) }
            return value
        } catch {
            if let signo = received.value { throw interrupted(signo) }
            throw error
        }
    }

    private static func interrupted(_ signo: Int32) -> ExitCode {
        FileHandle.standardError.write(Data("shopbulk: \(Interrupted(signal: signo))\n".utf8))
        return ExitCode(128 + signo)
    }
}

/// The first signal received.
final class SignalBox: @unchecked Sendable {
    private let lock = NSLock()
    private var signo: Int32?
    /// Records `signo`; true for the first signal.
    func set(_ signo: Int32) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard self.signo == nil else { return false }
        self.signo = signo
        return true
    }
    var value: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return signo
    }
}
