import Foundation

/// Where the commands that write a result file (`run --out`, `download --out`) put their bytes.
///
/// - `-` is standard output; a target that exists and is not a regular file (a device such as
///   `/dev/null`, a FIFO, a terminal; symlinks followed) is opened and written directly, never
///   created, truncated or replaced.
/// - Otherwise the bytes go to a new temporary file in the target's folder, created with
///   `O_CREAT|O_EXCL|O_NOFOLLOW` and mode 0600 (it holds customer data), so that a planted file or
///   symlink is never opened; `commit()` fsyncs it and renames it over the target (a symlink at the
///   target is replaced, never followed). Without `commit()` the temporary file is removed.
///
/// Open the sink before any work that costs something (a bulk operation), so that a bad path fails
/// first.
public final class FileSink: @unchecked Sendable {
    /// How the bytes reach the target.
    public enum Mode: Sendable, Equatable {
        case standardOutput
        /// An existing device, FIFO or other non-regular file, written in place.
        case direct
        /// A temporary file renamed over the target on `commit()`.
        case replace(temporary: String)
    }

    public let path: String
    public let mode: Mode
    private let fd: Int32
    private var finished = false
    /// Bytes and newline characters written so far.
    public private(set) var bytes: Int64 = 0
    public private(set) var lines = 0

    public init(path: String) throws(FileSinkError) {
        self.path = path
        if path == "-" {
            fd = STDOUT_FILENO
            mode = .standardOutput
            return
        }
        guard !path.isEmpty, !path.contains("\0") else { throw FileSinkError(path: path, reason: "is not a usable file name") }
        var st = stat()
        if stat(path, &st) == 0 {
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                throw FileSinkError(path: path, reason: "is a folder; give a file name")
            case S_IFREG:
                break
            default:
                // A device or FIFO: write to it as it is (O_NONBLOCK only for the open, so that a FIFO
                // without a reader fails instead of hanging).
                let opened = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK)
                guard opened >= 0 else { throw FileSinkError(path: path, errno: errno) }
                let flags = fcntl(opened, F_GETFL)
                if flags >= 0 { _ = fcntl(opened, F_SETFL, flags & ~O_NONBLOCK) }
                fd = opened
                mode = .direct
                return
            }
        } else if errno != ENOENT {
            throw FileSinkError(path: path, errno: errno)
        }
        let folder = (path as NSString).deletingLastPathComponent
        let directory = folder.isEmpty ? "." : folder
        var dirStat = stat()
        guard stat(directory, &dirStat) == 0, dirStat.st_mode & S_IFMT == S_IFDIR else {
            throw FileSinkError(path: path, reason: "cannot be created: the folder \(directory) does not exist")
        }
        let base = (path as NSString).lastPathComponent
        var created: (fd: Int32, path: String)?
        for _ in 0..<8 {
            let candidate = directory + "/.\(base).\(String(UInt64.random(in: 0...UInt64.max), radix: 36)).partial"
            let opened = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0o600)
            if opened >= 0 {
                created = (opened, candidate)
                break
            }
            if errno != EEXIST { throw FileSinkError(path: path, reason: "cannot be written: \(String(cString: strerror(errno)))") }
        }
        guard let created else { throw FileSinkError(path: path, reason: "cannot be written: no free temporary name in \(directory)") }
        fd = created.fd
        mode = .replace(temporary: created.path)
    }

    deinit {
        guard !finished else { return }
        // Not committed: the work failed; leave no half file behind.
        if case .replace(let temporary) = mode {
            close(fd)
            unlink(temporary)
        } else if mode == .direct {
            close(fd)
        }
    }

    /// Gives up: closes and removes the temporary file (the target stays as it was). Called on
    /// failure, so that no half file is left even when the process exits right after.
    public func abandon() {
        guard !finished else { return }
        finished = true
        switch mode {
        case .standardOutput: break
        case .direct: close(fd)
        case .replace(let temporary):
            close(fd)
            unlink(temporary)
        }
    }

    /// Appends `chunk`.
    public func write(_ chunk: UnsafeRawBufferPointer) throws(FileSinkError) {
        guard let base = chunk.baseAddress, !finished else { return }
        var offset = 0
        while offset < chunk.count {
            let n = Glibc.write(fd, base + offset, chunk.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileSinkError(path: path, reason: "could not be written: \(String(cString: strerror(errno)))")
            }
            offset += n
        }
        bytes += Int64(chunk.count)
        lines += chunk.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
    }

    /// Finishes the file: fsync and rename into place (or just close a device). Returns the number of
    /// lines written.
    @discardableResult
    public func commit() throws(FileSinkError) -> Int {
        guard !finished else { return lines }
        finished = true
        switch mode {
        case .standardOutput:
            return lines
        case .direct:
            guard close(fd) == 0 else {
                throw FileSinkError(path: path, reason: "could not be written: \(String(cString: strerror(errno)))")
            }
            return lines
        case .replace(let temporary):
            if fsync(fd) != 0 || close(fd) != 0 {
                let reason = String(cString: strerror(errno))
                unlink(temporary)
                throw FileSinkError(path: path, reason: "could not be written: \(reason)")
            }
            guard rename(temporary, path) == 0 else {
                let reason = String(cString: strerror(errno))
                unlink(temporary)
                throw FileSinkError(path: path, reason: "could not be put in place (rename from \(temporary)): \(reason)")
            }
            // The rename itself survives a crash only once the folder is synced.
            let folder = (path as NSString).deletingLastPathComponent
            let dirFD = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if dirFD >= 0 {
                fsync(dirFD)
                close(dirFD)
            }
            return lines
        }
    }
}

/// An output file cannot be opened or written; names the file and why.
public struct FileSinkError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    init(path: String, errno code: Int32) {
        self.init(path: path, reason: "cannot be written: \(String(cString: strerror(code)))")
    }

    public var description: String { "output file \(path) \(reason)" }
}
