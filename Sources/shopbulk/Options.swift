import ArgumentParser
import Foundation
import Importer
import Logging

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
        help: "Folder of NNNN_name.sql migrations (default: ./migrations or the one beside the executable).")
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
        LoggingSystem.bootstrap { label in StreamLogHandler.standardError(label: label) }
    }
}

/// Prints a JSON object on stdout.
func printJSON(_ object: Any) {
    if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]) {
        FileHandle.standardOutput.write(data)
        FileHandle.standardOutput.write(Data("\n".utf8))
    }
}
