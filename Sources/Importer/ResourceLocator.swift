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

/// Checks that a folder of files shopbulk executes or submits (migrations, queries) cannot be changed
/// by another local user: the folder and every file in it belong to the effective user or root and are
/// not writable by others (nor by the group, unless the group is the owner's own private group).
public enum TrustedFolder {
    public static func check(_ path: String, what: String) throws {
        try checkEntry(path, what: what, of: "", isFolder: true)
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        for entry in entries.sorted() where entry.hasSuffix(".sql") || entry.hasSuffix(".graphql") {
            try checkEntry(path + "/" + entry, what: "the file", of: " of \(what)", isFolder: false)
        }
    }

    static func checkEntry(_ path: String, what: String, of owner: String, isFolder: Bool) throws {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw ResourceError(message: "cannot inspect \(what) \(path)\(owner): \(String(cString: strerror(errno)))")
        }
        let me = geteuid()
        if st.st_uid != me && st.st_uid != 0 {
            throw ResourceError(
                message:
                    "\(what) \(path)\(owner) belongs to \(FileOwner.userName(st.st_uid)), not to \(FileOwner.userName(me)) or root: another user could change what shopbulk runs. Use a folder you own (chown \(FileOwner.userName(me)) \(path)) or pass another folder."
            )
        }
        let mode = st.st_mode & 0o7777
        let othersWrite = mode & 0o002 != 0
        let groupWrite = mode & 0o020 != 0 && !FileOwner.isPrivateGroup(st.st_gid, of: st.st_uid)
        if othersWrite || groupWrite {
            throw ResourceError(
                message:
                    "\(what) \(path)\(owner) is writable by \(othersWrite ? "others" : "its group") (mode \(String(mode, radix: 8))): another user could change what shopbulk runs. Fix it with chmod go-w \(path)."
            )
        }
    }
}

/// User and group names for messages.
public enum FileOwner {
    public static func userName(_ uid: uid_t) -> String {
        guard let pw = getpwuid(uid), let name = pw.pointee.pw_name else { return "uid \(uid)" }
        return String(cString: name)
    }

    public static func uid(ofUser name: String) -> uid_t? {
        guard let pw = getpwnam(name) else { return nil }
        return pw.pointee.pw_uid
    }

    /// Whether `gid` is a user-private group: the owner's primary group, named like the owner, with no
    /// other members (Debian's default with umask 002).
    static func isPrivateGroup(_ gid: gid_t, of uid: uid_t) -> Bool {
        guard let pw = getpwuid(uid), pw.pointee.pw_gid == gid, let gr = getgrgid(gid), let groupName = gr.pointee.gr_name,
            let userName = pw.pointee.pw_name, String(cString: groupName) == String(cString: userName)
        else { return false }
        if let members = gr.pointee.gr_mem, members.pointee != nil {
            var p = members
            while let member = p.pointee {
                if String(cString: member) != String(cString: userName) { return false }
                p += 1
            }
        }
        return true
    }
}

public struct ResourceError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
