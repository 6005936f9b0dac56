internal import CLibPQ
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension PostgresConnection {
    /// Waits up to `timeout` seconds for a notification on a channel this session `LISTEN`s to and
    /// returns the channels notified (empty when the time passed). Blocks the calling thread in
    /// `poll(2)` on the connection's socket, never in a loop; an error when the connection is gone.
    public func waitForNotifications(timeout: Double) throws(PostgresError) -> [String] {
        var channels = drainNotifications()
        if !channels.isEmpty { return channels }
        let socket = PQsocket(conn)
        guard socket >= 0 else { throw PostgresError(code: .connection, message: "the connection to \(endpoint) has no socket") }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, Int32(max(0, min(timeout, 3600)) * 1000))
        if ready < 0 && errno != EINTR {
            throw PostgresError(code: .connection, message: "waiting on the connection to \(endpoint): \(String(cString: strerror(errno)))")
        }
        if ready > 0 {
            guard PQconsumeInput(conn) == 1 else {
                let reason = String(cString: PQerrorMessage(conn)).trimmingCharacters(in: .whitespacesAndNewlines)
                throw PostgresError(code: .connection, message: "the connection to \(endpoint) was lost while waiting: \(reason)")
            }
            channels = drainNotifications()
        }
        return channels
    }

    private func drainNotifications() -> [String] {
        var channels: [String] = []
        while let notice = PQnotifies(conn) {
            channels.append(String(cString: notice.pointee.relname))
            PQfreemem(notice)
        }
        return channels
    }
}
