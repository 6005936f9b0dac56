import Foundation

#if canImport(Glibc)
    import Glibc
#endif

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
