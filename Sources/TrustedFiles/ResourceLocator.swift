import Foundation

/// Finds the folders shopbulk reads at run time (`migrations/`, `queries/`), never from the working
/// directory: a folder another user can plant files in would run its SQL as the database owner.
///
/// In order: the explicit option (`--migrations-dir`, `--queries-dir`), the environment variable
/// (`SHOPBULK_MIGRATIONS_DIR`, `SHOPBULK_QUERIES_DIR`), else the installed folder: walking up from the
/// (symlink-resolved) executable, the first `<dir>/<name>` or `<dir>/share/shopbulk/<name>`. So
/// `.build/release/shopbulk` finds the checkout's folders and `/usr/local/bin/shopbulk` finds
/// `/usr/local/share/shopbulk/`. Every folder is checked with `TrustedFolder` before it is used.
public enum ResourceLocator {
    /// The environment variable naming the folder, e.g. `SHOPBULK_MIGRATIONS_DIR`.
    public static func environmentVariable(for name: String) -> String { "SHOPBULK_\(name.uppercased())_DIR" }

    public static func directory(
        named name: String, explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
        marker: (String) -> Bool = { _ in true }
    ) throws -> String {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        let variable = environmentVariable(for: name)
        let given: (path: String, source: String)? =
            explicit.map { ($0, "--\(name)-dir") } ?? environment[variable].flatMap { $0.isEmpty ? nil : ($0, variable) }
        if let given {
            guard fm.fileExists(atPath: given.path, isDirectory: &isDir), isDir.boolValue else {
                throw ResourceError(message: "the \(name) folder \(given.path) (from \(given.source)) does not exist or is not a folder")
            }
            try TrustedFolder.check(given.path, what: "the \(name) folder")
            return given.path
        }
        for candidate in installedCandidates(named: name)
        where fm.fileExists(atPath: candidate, isDirectory: &isDir) && isDir.boolValue && marker(candidate) {
            try TrustedFolder.check(candidate, what: "the \(name) folder")
            return candidate
        }
        throw ResourceError(
            message:
                "cannot find the installed \(name) folder (looked beside the shopbulk executable \(executableDirectory()) and its parents, in <dir>/\(name) and <dir>/share/shopbulk/\(name)); pass --\(name)-dir or set \(variable). The working directory is never searched."
        )
    }

    /// Where the installed folder may be, nearest first.
    static func installedCandidates(named name: String) -> [String] {
        var dir = URL(fileURLWithPath: executableDirectory())
        var candidates: [String] = []
        for _ in 0..<6 {
            candidates.append(dir.appendingPathComponent(name).path)
            candidates.append(dir.appendingPathComponent("share/shopbulk/" + name).path)
            if dir.path == "/" { break }
            dir = dir.deletingLastPathComponent()
        }
        return candidates
    }

    /// The folder of the running executable, symlinks resolved.
    public static func executableDirectory() -> String {
        if let exe = Bundle.main.executableURL?.resolvingSymlinksInPath() { return exe.deletingLastPathComponent().path }
        if let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return (link as NSString).deletingLastPathComponent
        }
        return URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent().path
    }
}

public struct ResourceError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
