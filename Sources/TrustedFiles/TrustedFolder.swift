import Foundation

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
