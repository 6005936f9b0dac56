import Foundation

/// Finds the folders shopbulk reads at run time (`migrations/`, `queries/`): an explicit path, else
/// the working directory's, else the one beside the executable's package (walking up from the binary,
/// so `.build/debug/shopbulk` finds the checkout's folders).
public enum ResourceLocator {
    public static func directory(named name: String, explicit: String?, marker: (String) -> Bool = { _ in true }) throws -> String {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if let explicit {
            guard fm.fileExists(atPath: explicit, isDirectory: &isDir), isDir.boolValue else {
                throw ResourceError(message: "the \(name) folder \(explicit) does not exist or is not a folder")
            }
            return explicit
        }
        var candidates = [fm.currentDirectoryPath + "/" + name]
        var dir = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
        if let exe = Bundle.main.executableURL?.resolvingSymlinksInPath() { dir = exe.deletingLastPathComponent() }
        for _ in 0..<6 {
            candidates.append(dir.appendingPathComponent(name).path)
            dir = dir.deletingLastPathComponent()
        }
        for candidate in candidates where fm.fileExists(atPath: candidate, isDirectory: &isDir) && isDir.boolValue && marker(candidate) {
            return candidate
        }
        throw ResourceError(
            message:
                "cannot find the \(name) folder (looked in the working directory and beside the shopbulk executable); pass --\(name)-dir")
    }
}

public struct ResourceError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
