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

    /// Parses `env:NAME` or `file:PATH`.
    public init(parsing text: String) throws(ShopifyError) {
        let trimmed = text.trimmingASCIIWhitespace()
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
                throw ShopifyError(code: .missingSecret, message: "secret reference \(self): cannot read \(path): \(error.reason)")
            }
            var text = String(decoding: bytes, as: UTF8.self)
            while let last = text.last, last == "\n" || last == "\r" || last == " " || last == "\t" { text.removeLast() }
            guard !text.isEmpty else {
                throw ShopifyError(code: .missingSecret, message: "secret reference \(self): the file \(path) is empty")
            }
            return Secret(text)
        }
    }

    static func isValidVariableName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
        }
    }

    struct ReadError: Error { var reason: String }

    /// Reads at most 64 KiB (a secret is short; a huge file is a mistake).
    static func readSmallFile(_ path: String) throws(ReadError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ReadError(reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadError(reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            out.append(contentsOf: buffer[0..<n])
            if out.count > 65536 { throw ReadError(reason: "larger than 64 KiB, not a secret file") }
        }
        return out
    }
}
