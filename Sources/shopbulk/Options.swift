import ArgumentParser
import EmbeddedPostgres
import Foundation
import Importer
import Logging
import ShopifyAdmin
import TrustedFiles

/// Where the database and the run-time folders are.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("database-url"), help: "PostgreSQL URL (default: $DATABASE_URL, else the embedded local cluster).")
    var databaseURL: String?

    @Option(
        name: .customLong("data-dir"),
        help: "Folder of the embedded local cluster (default: $SHOPBULK_HOME, ~/.local/share/shopbulk, or /var/lib/shopbulk as root).")
    var dataDirectory: String?

    @Option(
        name: .customLong("migrations-dir"),
        help: "Folder of NNNN_name.sql migrations (default: $SHOPBULK_MIGRATIONS_DIR, else the installed one beside the executable).")
    var migrationsDirectory: String?

    func migrationsPath() throws -> String {
        try ResourceLocator.directory(named: "migrations", explicit: migrationsDirectory) { path in
            ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).contains { $0.hasSuffix(".sql") }
        }
    }

    func connectionString(logger: Logger) throws -> String {
        try DatabaseLocator.resolve(url: databaseURL, dataDirectory: dataDirectory, logger: logger)
    }
}

/// Logging and output format.
struct OutputOptions: ParsableArguments {
    @Option(
        name: .customLong("log-level"),
        help: "trace, debug, info, notice, warning, error or critical (default: $SHOPBULK_LOG_LEVEL or info).")
    var logLevel: String?

    @Flag(name: .customLong("json"), help: "Print machine-readable JSON on stdout.")
    var json = false

    func validate() throws {
        if let logLevel, Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("unknown --log-level '\(logLevel)'")
        }
    }

    func makeLogger(_ label: String = "shopbulk") -> Logger {
        let level = logLevel ?? ProcessInfo.processInfo.environment["SHOPBULK_LOG_LEVEL"] ?? "info"
        LoggingSetup.bootstrapOnce()
        var logger = Logger(label: label)
        logger.logLevel = Logger.Level(rawValue: level) ?? .info
        return logger
    }
}

enum LoggingSetup {
    nonisolated(unsafe) static var done = false
    static func bootstrapOnce() {
        guard !done else { return }
        done = true
        LoggingSystem.bootstrap { label in EscapingLogHandler(StreamLogHandler.standardError(label: label)) }
    }
}

/// Log lines on stderr are read on a terminal too: messages and metadata (which may carry what a
/// server or a shop's data said) are escaped (`TerminalText`) before the stream handler writes them.
struct EscapingLogHandler: LogHandler {
    var inner: StreamLogHandler

    init(_ inner: StreamLogHandler) { self.inner = inner }

    var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue.mapValues(Self.escape) }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { inner.metadataProvider }
        set { inner.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue.map(Self.escape) }
    }

    func log(event: LogEvent) {
        var event = event
        event.message = Logger.Message(stringLiteral: TerminalText.escape(event.message.description))
        event.metadata = event.metadata?.mapValues(Self.escape)
        inner.log(event: event)
    }

    static func escape(_ value: Logger.MetadataValue) -> Logger.MetadataValue {
        switch value {
        case .string(let s): return .string(TerminalText.escape(s))
        case .stringConvertible(let c): return .string(TerminalText.escape(c.description))
        case .array(let a): return .array(a.map(escape))
        case .dictionary(let d): return .dictionary(d.mapValues(escape))
        }
    }
}
