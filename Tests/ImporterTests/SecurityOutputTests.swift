import Foundation
import Importer
import ShopifySimulator
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// File type and mode of `path` (symlinks not followed).
private func fileInfo(_ path: String) -> (type: mode_t, mode: mode_t)? {
    var st = stat()
    guard lstat(path, &st) == 0 else { return nil }
    return (st.st_mode & S_IFMT, st.st_mode & 0o7777)
}

@Suite("Security: one file sink for result files (devices, FIFOs, symlinks, mode 0600)")
struct FileSinkTests {
    @Test("a new file is written under a temporary name, mode 0600, and renamed into place")
    func regularFile() throws {
        let dir = try SecurityCLI.temporaryFolder("sink")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let target = dir + "/out.jsonl"
        try "old\n".write(toFile: target, atomically: false, encoding: .utf8)
        #expect(chmod(target, 0o644) == 0)
        let sink = try FileSink(path: target)
        guard case .replace(let temporary) = sink.mode else {
            Issue.record("expected a temporary file, got \(sink.mode)")
            return
        }
        #expect(temporary.hasPrefix(dir + "/.out.jsonl."))
        #expect(fileInfo(temporary)?.mode == 0o600)
        try Array("a\nb\n".utf8).withUnsafeBytes { try sink.write($0) }
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "old\n")
        #expect(try sink.commit() == 2)
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "a\nb\n")
        #expect(fileInfo(target)?.type == S_IFREG)
        #expect(fileInfo(target)?.mode == 0o600)
        #expect(!FileManager.default.fileExists(atPath: temporary))
    }

    @Test("without commit the temporary file is removed and the target is untouched")
    func abandoned() throws {
        let dir = try SecurityCLI.temporaryFolder("sink")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var temporary = ""
        do {
            let sink = try FileSink(path: dir + "/out.jsonl")
            if case .replace(let t) = sink.mode { temporary = t }
            try Array("half".utf8).withUnsafeBytes { try sink.write($0) }
        }
        #expect(!temporary.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    @Test("a planted symlink at the old temporary name or at the target never redirects the write")
    func plantedSymlinks() throws {
        let dir = try SecurityCLI.temporaryFolder("sink")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let victim = dir + "/victim"
        try "precious\n".write(toFile: victim, atomically: false, encoding: .utf8)
        #expect(symlink(victim, dir + "/out.jsonl.partial") == 0)
        #expect(symlink(victim, dir + "/link.jsonl") == 0)
        for target in [dir + "/out.jsonl", dir + "/link.jsonl"] {
            let sink = try FileSink(path: target)
            try Array("ann@example.com\n".utf8).withUnsafeBytes { try sink.write($0) }
            try sink.commit()
            #expect(fileInfo(target)?.type == S_IFREG, "\(target) is a file of its own now")
            #expect(fileInfo(target)?.mode == 0o600)
        }
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
        #expect(fileInfo(dir + "/out.jsonl.partial")?.type == S_IFLNK)
    }

    @Test("a FIFO is written directly and stays a FIFO")
    func fifo() throws {
        let dir = try SecurityCLI.temporaryFolder("sink")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/pipe"
        #expect(mkfifo(path, 0o600) == 0)
        let reader = open(path, O_RDONLY | O_NONBLOCK)
        #expect(reader >= 0)
        defer { close(reader) }
        let sink = try FileSink(path: path)
        #expect(sink.mode == .direct)
        try Array("x\n".utf8).withUnsafeBytes { try sink.write($0) }
        try sink.commit()
        var buffer = [UInt8](repeating: 0, count: 16)
        let n = buffer.withUnsafeMutableBytes { read(reader, $0.baseAddress, $0.count) }
        #expect(n == 2)
        #expect(fileInfo(path)?.type == S_IFIFO)
    }

    @Test("a device is written directly and stays a device (root: a private copy of /dev/null)")
    func device() throws {
        let dir = try SecurityCLI.temporaryFolder("sink")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path: String
        if geteuid() == 0 {
            path = dir + "/null"
            #expect(mknod(path, S_IFCHR | 0o666, dev_t(0x103) /* makedev(1, 3): /dev/null */) == 0)
        } else {
            path = "/dev/null"
        }
        let sink = try FileSink(path: path)
        #expect(sink.mode == .direct)
        try Array("customer data\n".utf8).withUnsafeBytes { try sink.write($0) }
        try sink.commit()
        #expect(fileInfo(path)?.type == S_IFCHR)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".partial") }.isEmpty)
    }

    @Test("bad targets fail with the path and the reason")
    func badTargets() throws {
        let dir = try SecurityCLI.temporaryFolder("sink")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: FileSinkError(path: dir, reason: "is a folder; give a file name")) { try FileSink(path: dir) }
        #expect(
            throws: FileSinkError(path: dir + "/missing/out.jsonl", reason: "cannot be created: the folder \(dir)/missing does not exist")
        ) { try FileSink(path: dir + "/missing/out.jsonl") }
        #expect(
            "\(FileSinkError(path: "/x/out.jsonl", reason: "is a folder; give a file name"))"
                == "output file /x/out.jsonl is a folder; give a file name")
    }
}

extension FileSinkError: Equatable {
    public static func == (a: FileSinkError, b: FileSinkError) -> Bool { a.path == b.path && a.reason == b.reason }
}

@Suite("Security: run --out and download --out through the file sink", .serialized, .enabled(if: TestEnvironment.databaseTestsEnabled))
struct OutputCommandTests {
    static let token = "shpat_output_test_secret_1d2e3f"

    /// A migrated database with the simulator registered as shop "sim".
    static func setUp() async throws -> (TestDatabase, ShopifySimulator) {
        let sim = try await ShopifySimulator.start(SimulatorConfig(seed: 3, customers: 5, orders: 8, apps: [.legacy(token: token)]))
        let db = try TestDatabase()
        try SecurityCLI.migrate(db)
        _ = try ShopStore(connection: db.connect()).add(
            Shop(name: "sim", storeDomain: sim.shopDomain, authMethod: .token, tokenRef: "env:SIM_TOKEN", apiBase: sim.baseURL))
        return (db, sim)
    }

    static func run(_ db: TestDatabase, _ args: [String]) async throws -> ShopbulkCLI.Result {
        try await SecurityCLI.run(
            args + ["--database-url", db.url, "--poll-interval", "0.05", "--max-poll-interval", "0.2"], environment: ["SIM_TOKEN": token])
    }

    @Test("run --out: a device stays a device, a planted .partial symlink is not followed, the file is 0600")
    func runOut() async throws {
        let (db, sim) = try await Self.setUp()
        defer { Task { await sim.stop() } }
        let dir = try SecurityCLI.temporaryFolder("runout")
        defer { try? FileManager.default.removeItem(atPath: dir) }

        let victim = dir + "/victim"
        try "precious\n".write(toFile: victim, atomically: false, encoding: .utf8)
        #expect(symlink(victim, dir + "/out.jsonl.partial") == 0)
        let r = try await Self.run(db, ["run", "customers", "--shop", "sim", "--out", dir + "/out.jsonl"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
        #expect(fileInfo(dir + "/out.jsonl")?.type == S_IFREG)
        #expect(fileInfo(dir + "/out.jsonl")?.mode == 0o600)
        #expect(try String(contentsOfFile: dir + "/out.jsonl", encoding: .utf8).contains("gid://shopify/Customer/"))

        let device: String
        if geteuid() == 0 {
            device = dir + "/null"
            #expect(mknod(device, S_IFCHR | 0o666, dev_t(0x103) /* makedev(1, 3): /dev/null */) == 0)
        } else {
            device = "/dev/null"
        }
        let toDevice = try await Self.run(db, ["run", "customers", "--shop", "sim", "--out", device])
        #expect(toDevice.status == 0, "\(toDevice.stderr)")
        #expect(fileInfo(device)?.type == S_IFCHR)
    }

    @Test("run --out into a missing folder fails before any bulk operation is submitted")
    func badPathCostsNothing() async throws {
        let (db, sim) = try await Self.setUp()
        defer { Task { await sim.stop() } }
        let r = try await Self.run(db, ["run", "customers", "--shop", "sim", "--out", "/nonexistent-shopbulk/out.jsonl"])
        #expect(r.status == 1)
        #expect(
            r.stderr
                == "Error: output file /nonexistent-shopbulk/out.jsonl cannot be created: the folder /nonexistent-shopbulk does not exist\n"
        )
        #expect(sim.operations.isEmpty)
        #expect(!sim.recordedRequests.contains { $0.path.hasSuffix("/graphql.json") })
    }

    @Test("download --out: a symlink at the target is replaced, not followed; a device is written in place")
    func downloadOut() async throws {
        let body = Array("{\"id\":\"gid://shopify/Customer/1\"}\n".utf8)
        let server = try TestHTTPServer { request in .file(body, for: request) }
        let dir = try SecurityCLI.temporaryFolder("dlout")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let victim = dir + "/victim"
        try "precious\n".write(toFile: victim, atomically: false, encoding: .utf8)
        #expect(symlink(victim, dir + "/out.jsonl") == 0)
        let r = try await SecurityCLI.run(["download", server.baseURL + "/result.jsonl", "--out", dir + "/out.jsonl"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
        #expect(fileInfo(dir + "/out.jsonl")?.type == S_IFREG)
        #expect(fileInfo(dir + "/out.jsonl")?.mode == 0o600)
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: dir + "/out.jsonl"))) == body)

        let fifo = dir + "/fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let reader = open(fifo, O_RDONLY | O_NONBLOCK)
        defer { close(reader) }
        let toFIFO = try await SecurityCLI.run(["download", server.baseURL + "/result.jsonl", "--out", fifo])
        #expect(toFIFO.status == 0, "\(toFIFO.stderr)")
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = buffer.withUnsafeMutableBytes { read(reader, $0.baseAddress, $0.count) }
        #expect(n == body.count)
        #expect(fileInfo(fifo)?.type == S_IFIFO)
    }
}
