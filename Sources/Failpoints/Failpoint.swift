import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Named crash points at the boundaries where the ledger and the world can disagree, for the crash
/// tests: in debug builds (the ones tests run), `SHOPBULK_FAILPOINT=name` (or `name@N` for the N-th
/// time the point is reached) makes the process kill itself with SIGKILL exactly there, as a power cut
/// or `kill -9` would; `name:pause` instead prints `shopbulk: failpoint NAME paused` on stderr and
/// holds that thread until the file `SHOPBULK_FAILPOINT_RELEASE` names exists (at most 30 s), so that
/// a test can act (a signal, a killed backend, a server restart) at exactly that moment. Release builds
/// compile every point to nothing.
///
/// The points, in the order a window meets them:
///
/// | name | where |
/// |---|---|
/// | `submit.accepted` | Shopify accepted the operation; the ledger does not know its id yet |
/// | `submit.recorded` | the id is recorded; nothing polled yet |
/// | `poll` | while polling (after a poll answered) |
/// | `download.10`, `download.50`, `download.90` | that share of the result file streamed into the load |
/// | `copy.middle` | inside a COPY into a staging table, data sent, COPY not ended |
/// | `merge.before-commit` | the merge is done, the load's transaction not committed |
/// | `commit.before-ledger` | the load is committed; the engine has not recorded the download |
/// | `ledger.replace` | inside the transaction that replaces a window (a split or a retry) |
/// | `retry.backoff` | a failed window waits before its retry |
public enum Failpoint {
    /// Every name the code checks (the crash tests cover each).
    public static let all = [
        "submit.accepted", "submit.recorded", "poll", "download.10", "download.50", "download.90", "copy.middle",
        "merge.before-commit", "commit.before-ledger", "ledger.replace", "retry.backoff",
    ]

    #if DEBUG
        private static let armed: (name: String, count: Int, pause: Bool)? = {
            guard var spec = ProcessInfo.processInfo.environment["SHOPBULK_FAILPOINT"], !spec.isEmpty else { return nil }
            let pause = spec.hasSuffix(":pause")
            if pause { spec.removeLast(":pause".count) }
            let parts = spec.split(separator: "@", maxSplits: 1)
            return (String(parts[0]), parts.count > 1 ? max(1, Int(parts[1]) ?? 1) : 1, pause)
        }()
        nonisolated(unsafe) private static var hits = 0
        private static let lock = NSLock()
    #endif

    /// Kills the process if `name` is the armed point (debug builds only).
    @inline(__always)
    public static func hit(_ name: String) {
        #if DEBUG
            guard let armed, armed.name == name else { return }
            lock.lock()
            hits += 1
            let fire = hits == armed.count
            lock.unlock()
            guard fire else { return }
            if armed.pause {
                let message = "shopbulk: failpoint \(name) paused\n"
                _ = message.withCString { write(2, $0, strlen($0)) }
                // Until the test creates the release file (or 30 s pass), so that it acts while paused.
                let release = ProcessInfo.processInfo.environment["SHOPBULK_FAILPOINT_RELEASE"] ?? ""
                for _ in 0..<3000 where release.isEmpty || access(release, F_OK) != 0 { usleep(10_000) }
                return
            }
            let message = "shopbulk: failpoint \(name) reached; killing the process\n"
            _ = message.withCString { write(2, $0, strlen($0)) }
            kill(getpid(), SIGKILL)
        #endif
    }
}
