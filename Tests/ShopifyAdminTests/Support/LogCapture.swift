import Foundation
import Logging

/// A `LogHandler` that keeps every line (message and metadata rendered as text) for assertions.
final class LogCapture: @unchecked Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
        var text: String {
            "\(level) \(message) " + metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
    }

    private let lock = NSLock()
    private var _entries: [Entry] = []

    var entries: [Entry] { lock.lock(); defer { lock.unlock() }; return _entries }
    var allText: String { entries.map(\.text).joined(separator: "\n") }

    func append(_ e: Entry) { lock.lock(); _entries.append(e); lock.unlock() }

    func logger(label: String = "test") -> Logger {
        let capture = self
        var logger = Logger(label: label) { label in CapturingHandler(capture: capture) }
        logger.logLevel = .trace
        return logger
    }

    func contains(_ level: Logger.Level, _ fragment: String) -> Bool {
        entries.contains { $0.level == level && $0.message.contains(fragment) }
    }
}

struct CapturingHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        capture.append(
            LogCapture.Entry(level: event.level, message: "\(event.message)", metadata: merged.mapValues { "\($0)" }))
    }
}
