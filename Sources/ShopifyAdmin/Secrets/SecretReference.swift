#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a secret lives: an environment variable (`env:NAME`) or a file (`file:/path`). References are
/// what gets stored and printed; the secret itself is read only when needed, via `resolve()`.
public enum SecretReference: Hashable, Sendable, CustomStringConvertible {
    case environment(String)
    case file(String)

    /// Parses `env:NAME` or `file:PATH`. A name or path that looks like a secret itself (a pasted
    /// token) is refused without being echoed.
    public init(parsing text: String) throws(ShopifyError) {
        let trimmed = text.trimmingASCIIWhitespace()
        if let why = Self.secretLikeness(trimmed) {
            throw ShopifyError(
                code: .invalidSecretReference,
                message:
                    "a secret reference holds what looks like a secret itself (\(why)), not a variable name or a file path: change it with `shopbulk shop edit NAME --token-env VAR` (or --token-file, --client-secret-env, --client-secret-file) and rotate that secret"
            )
        }
        if trimmed.hasPrefix("env:") {
            let name = String(trimmed.dropFirst(4))
            guard Self.isValidVariableName(name) else {
                throw ShopifyError(
                    code: .invalidSecretReference,
                    message:
                        "secret reference '\(trimmed.prefix(80))' does not name an environment variable (env:NAME, NAME of letters, digits and _)"
                )
            }
            self = .environment(name)
        } else if trimmed.hasPrefix("file:") {
            let path = String(trimmed.dropFirst(5))
            guard !path.isEmpty, !path.contains("\0") else {
                throw ShopifyError(code: .invalidSecretReference, message: "secret reference 'file:' names no file (file:/path/to/secret)")
            }
            self = .file(path)
        } else {
            // Never echo the text: it may be a secret pasted where a reference belongs.
            throw ShopifyError(
                code: .invalidSecretReference,
                message:
                    "a secret reference must be env:VARIABLE or file:/path (secrets themselves are never accepted on the command line or stored)"
            )
        }
    }

    public var description: String {
        switch self {
        case .environment(let name): return "env:\(name)"
        case .file(let path): return "file:\(path)"
        }
    }

    /// Reads the secret. A missing or empty variable, or an unreadable or empty file, throws
    /// `missingSecret` naming the reference (never a value). A file's trailing newline is dropped.
    public func resolve(environment: [String: String]? = nil) throws(ShopifyError) -> Secret {
        switch self {
        case .environment(let name):
            let value: String?
            if let environment {
                value = environment[name]
            } else {
                value = getenv(name).map { String(cString: $0) }
            }
            guard let value else {
                throw ShopifyError(code: .missingSecret, message: "secret reference \(self): environment variable \(name) is not set")
            }
            guard !value.isEmpty else {
                throw ShopifyError(code: .missingSecret, message: "secret reference \(self): environment variable \(name) is empty")
            }
            return Secret(value)
        case .file(let path):
            let bytes: [UInt8]
            do { bytes = try Self.readSmallFile(path) } catch {
                throw ShopifyError(
                    code: error.unsafe ? .unsafeSecretFile : .missingSecret, message: "secret reference \(self): \(error.reason)")
            }
            var text = String(decoding: bytes, as: UTF8.self)
            while let last = text.last, last == "\n" || last == "\r" || last == " " || last == "\t" { text.removeLast() }
            guard !text.isEmpty else {
                throw ShopifyError(code: .missingSecret, message: "secret reference \(self): the file \(path) is empty")
            }
            return Secret(text)
        }
    }

    /// Prefixes of Shopify secrets: Admin API access tokens (`shpat_`), custom app tokens (`shpca_`),
    /// shared secrets (`shpss_`), private app passwords (`shppa_`).
    public static let secretPrefixes = ["shpat_", "shpca_", "shpss_", "shppa_"]

    /// Why `text` (a variable name, a path, or a whole `env:`/`file:` reference) looks like a Shopify
    /// secret rather than a name, or nil: a word (a path component, a variable name) that starts with
    /// a secret prefix, or that is 32 or more hexadecimal digits (API keys and client secrets). The
    /// answer never contains the text.
    public static func secretLikeness(_ text: String) -> String? {
        var body = Substring(text)
        for scheme in ["env:", "file:"] where body.hasPrefix(scheme) { body = body.dropFirst(scheme.count) }
        for word in body.split(separator: "/") {
            let lower = word.lowercased()
            if let prefix = secretPrefixes.first(where: { lower.hasPrefix($0) }) {
                return "it starts with \(prefix), as Shopify \(prefix == "shpss_" ? "client secrets" : "access tokens") do"
            }
            if word.count >= 32 && word.unicodeScalars.allSatisfy({ $0.properties.isASCIIHexDigit }) {
                return "it is a string of \(word.count) hexadecimal digits, like a Shopify API secret"
            }
        }
        return nil
    }

    /// A stored reference for listings: as it is, or `<hidden: looks like a secret>` for one that
    /// holds a pasted secret (stored before such references were refused).
    public static func displayText(_ reference: String) -> String {
        secretLikeness(reference) == nil ? reference : "<hidden: looks like a secret, not a reference>"
    }

    static func isValidVariableName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
        }
    }

    struct ReadError: Error {
        var reason: String
        /// The file exists but is not safe to take a secret from.
        var unsafe = false
    }

    /// Reads at most 64 KiB (a secret is short; a huge file is a mistake) from a file that is safe to
    /// hold a secret: a regular file (symlinks followed), owned by the effective user or root, that
    /// neither its group nor others may read or write. Like ssh with private keys, anything else is
    /// refused, saying which.
    static func readSmallFile(_ path: String) throws(ReadError) -> [UInt8] {
        // O_NONBLOCK: a FIFO must be refused, not waited on.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
        guard fd >= 0 else { throw ReadError(reason: "cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ReadError(reason: "cannot inspect \(path): \(String(cString: strerror(errno)))") }
        let type = st.st_mode & S_IFMT
        guard type == S_IFREG else {
            let kind =
                type == S_IFDIR
                ? "a folder"
                : type == S_IFIFO ? "a FIFO" : type == S_IFCHR ? "a character device" : type == S_IFBLK ? "a block device" : "a socket"
            throw ReadError(
                reason: "\(path) is not a regular file (it is \(kind)): put the secret in a plain file readable only by you", unsafe: true)
        }
        let me = geteuid()
        if st.st_uid != me && st.st_uid != 0 {
            throw ReadError(
                reason:
                    "\(path) belongs to \(userName(st.st_uid)), not to \(userName(me)): a secret file must be yours or root's (chown \(userName(me)) \(path))",
                unsafe: true)
        }
        let mode = st.st_mode & 0o777
        if mode & 0o077 != 0 {
            let who = [mode & 0o070 != 0 ? "its group" : nil, mode & 0o007 != 0 ? "others" : nil].compactMap { $0 }.joined(
                separator: " and ")
            throw ReadError(
                reason:
                    "\(path) is open to \(who) (mode \(String(mode, radix: 8))): a secret file must be readable only by its owner; fix it with chmod 600 \(path) and rotate the secret if others could read it",
                unsafe: true)
        }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadError(reason: "cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            out.append(contentsOf: buffer[0..<n])
            if out.count > 65536 { throw ReadError(reason: "cannot read \(path): larger than 64 KiB, not a secret file") }
        }
        return out
    }

    static func userName(_ uid: uid_t) -> String {
        guard let pw = getpwuid(uid), let name = pw.pointee.pw_name else { return "uid \(uid)" }
        return String(cString: name)
    }
}
