import Foundation
import Importer
import Postgres
import ShopifySimulator
import TestSupport
import Testing

/// A PostgreSQL cluster of a test's own (PostgreSQL's defaults), so that the test can restart it
/// without disturbing the others. Runs as the `postgres` user when the tests run as root.
final class PrivateCluster: @unchecked Sendable {
    let folder: String
    private(set) var port: Int
    let bin: String
    var data: String { folder + "/data" }
    var adminURL: String { "postgresql://shopbulk@127.0.0.1:\(port)/postgres" }
    private let asRoot = getuid() == 0

    /// Addresses the server listens on (127.0.0.1, and e.g. a bridge address for clients in other
    /// network namespaces).
    let listenAddresses: String

    /// `network`: a CIDR whose clients may connect too (trust, like loopback), with the server also
    /// listening on `extraAddress`.
    init(extraAddress: String? = nil, network: String? = nil) throws {
        listenAddresses = ["127.0.0.1", extraAddress].compactMap { $0 }.joined(separator: ",")
        bin =
            ProcessInfo.processInfo.environment["SHOPBULK_TEST_PG_BIN"]
            ?? ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql"))?.sorted().last.map {
                "/usr/lib/postgresql/\($0)/bin"
            } ?? "/usr/lib/postgresql/15/bin")
        folder = NSTemporaryDirectory() + "sb-cluster-\(UInt32.random(in: 0...UInt32.max))"
        port = Self.randomPort()
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if asRoot {
            guard let pw = getpwnam("postgres") else { throw TestEnvironmentError(message: "no postgres user to run the cluster as") }
            guard chown(folder, pw.pointee.pw_uid, pw.pointee.pw_gid) == 0 else {
                throw TestEnvironmentError(message: "chown \(folder): \(String(cString: strerror(errno)))")
            }
        }
        let initdb = try tool("initdb", ["-D", data, "-U", "shopbulk", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-instructions"])
        guard initdb.status == 0 else { throw TestEnvironmentError(message: "initdb failed: \(initdb.stderr)") }
        if let network {
            let hba = try FileHandle(forWritingTo: URL(fileURLWithPath: data + "/pg_hba.conf"))
            try hba.seekToEnd()
            try hba.write(contentsOf: Data("host all all \(network) trust\n".utf8))
            try hba.close()
        }
        // A random port may be taken (by another test's cluster): try a few.
        var attempt = 0
        while true {
            do {
                try start()
                return
            } catch {
                attempt += 1
                if attempt == 3 { throw error }
                port = Self.randomPort()
            }
        }
    }

    /// A port below Linux's ephemeral range (32768-60999): a port in that range can be the local end of
    /// any test's outgoing connection, and PostgreSQL, unable to bind 127.0.0.1 there, would still start
    /// on the other addresses and refuse every connection to 127.0.0.1. (scripts/test's cluster uses
    /// 20000-32767.)
    static func randomPort() -> Int { Int.random(in: 10_000...19_999) }

    func tool(_ name: String, _ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let out = folder + "/\(name).out"
        let r =
            asRoot
            ? try runDaemonizing("/usr/sbin/runuser", ["-u", "postgres", "--", bin + "/" + name] + arguments, outputFile: out)
            : try runDaemonizing(bin + "/" + name, arguments, outputFile: out)
        return (r.status, r.output)
    }

    func start() throws {
        let logged = (try? FileManager.default.attributesOfItem(atPath: folder + "/log")[.size] as? Int) ?? 0
        let r = try tool(
            "pg_ctl",
            [
                "start", "-D", data, "-l", folder + "/log", "-w", "-s", "-o",
                "-c listen_addresses=\(listenAddresses) -c port=\(port) -c unix_socket_directories=\(folder)",
            ])
        guard r.status == 0 else {
            let log = (try? String(contentsOfFile: folder + "/log", encoding: .utf8)) ?? ""
            throw TestEnvironmentError(message: "pg_ctl start failed: \(r.stderr) \(log.suffix(1500))")
        }
        // PostgreSQL starts when it can bind at least one of its addresses: every one is needed here.
        let log = String(((try? String(contentsOfFile: folder + "/log", encoding: .utf8)) ?? "").utf8.dropFirst(logged)) ?? ""
        if log.contains("could not bind") {
            _ = try? tool("pg_ctl", ["stop", "-D", data, "-m", "immediate", "-w", "-s"])
            throw TestEnvironmentError(message: "the cluster could not bind every address on port \(port): \(log.suffix(600))")
        }
    }

    /// `pg_ctl restart -m immediate`: the server dies without a checkpoint, as in a crash, and starts again.
    func restartImmediately() throws {
        let r = try tool("pg_ctl", ["restart", "-D", data, "-m", "immediate", "-w", "-s"])
        guard r.status == 0 else { throw TestEnvironmentError(message: "pg_ctl restart failed: \(r.stderr)") }
    }

    func stop() {
        _ = try? tool("pg_ctl", ["stop", "-D", data, "-m", "immediate", "-w", "-s"])
        try? FileManager.default.removeItem(atPath: folder)
    }
}

/// What the database and the network can do to a load: a killed backend, a server crash, a dropped
/// download. Each ends with the tables of an uninterrupted import.
@Suite("Database and network faults during a load", .serialized, .enabled(if: TestEnvironment.databaseTestsEnabled))
struct DatabaseFaultTests {
    static func expectReference(_ h: EngineHarness, _ context: String) async throws {
        let reference = try await CrashPointTests.referenceTables()
        for table in ["customers", "orders", "order_lines"] {
            let rows = try h.dump(table)
            #expect(!rows.isEmpty)
            #expect(rows == reference[table], "\(context): \(table) differs from an uninterrupted import")
        }
        expectNothingSubmittedTwice(h.sim, context)
    }

    @Test("the load's backend is terminated (pg_terminate_backend) mid-download: the import fails cleanly, the rerun completes it")
    func loadBackendTerminated() async throws {
        let h = try await EngineHarness.make(customers: 120, orders: 600) { c in CrashPointTests.configure(&c) }
        do {
            let run = try ImportProcess(h, failpoint: "download.50:pause")
            #expect(await run.waitForLine(containing: "failpoint download.50 paused"), "\(run.stderr)")
            let killed = try h.count(
                """
                SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE datname = current_database() AND application_name LIKE 'shopbulk import sim worker%' AND xact_start IS NOT NULL) k
                """)
            #expect(killed >= 1, "no load transaction was open to terminate")
            run.release()
            let outcome = await run.wait()
            #expect(outcome.status == 1 && !outcome.signaled, "exit \(outcome): \(run.stderr)")
            #expect(run.stderr.contains("terminat") || run.stderr.contains("connection"), "\(run.stderr)")
            let rerun = try ImportProcess(h)
            #expect(await rerun.wait().status == 0, "\(rerun.stderr)")
            try await Self.expectReference(h, "pg_terminate_backend")
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }

    @Test("PostgreSQL restarted in immediate mode in the middle of a load: nothing half-loaded, the rerun completes it")
    func serverRestartedMidLoad() async throws {
        let cluster = try PrivateCluster()
        do {
            let h = try await EngineHarness.make(customers: 120, orders: 600, adminURL: cluster.adminURL) { c in
                CrashPointTests.configure(&c)
            }
            do {
                let run = try ImportProcess(h, failpoint: "download.50:pause")
                #expect(await run.waitForLine(containing: "failpoint download.50 paused"), "\(run.stderr)")
                try cluster.restartImmediately()
                run.release()
                let outcome = await run.wait()
                #expect(outcome.status == 1 && !outcome.signaled, "exit \(outcome): \(run.stderr)")
                try h.reconnect()
                // The server lost the load's transaction: no window is loaded that the ledger does not know.
                let connection = try h.db.connect()
                let unloaded =
                    try connection.query(
                        "SELECT count(*) FROM sync_runs WHERE parent_run_id IS NOT NULL AND status NOT IN ('loaded', 'empty')"
                    ).first?[0].int ?? 0
                #expect(unloaded >= 1, "the restart came after everything was loaded")
                let rerun = try ImportProcess(h)
                #expect(await rerun.wait().status == 0, "\(rerun.stderr)")
                try await Self.expectReference(h, "immediate restart")
            } catch {
                await h.stop()
                throw error
            }
            await h.stop()
        } catch {
            cluster.stop()
            throw error
        }
        cluster.stop()
    }

    @Test("the download connection reset at a random byte: resumed with Range, the tables equal an uninterrupted import")
    func downloadResetAtRandomByte() async throws {
        var generator = SystemRandomNumberGenerator()
        let at = Int.random(in: 1_000...60_000, using: &generator)
        let h = try await EngineHarness.make(customers: 120, orders: 600) { c in
            c.faults = SimulatorFaults(downloadDrops: [DownloadDrop(afterBytes: at, count: 2)])
        }
        do {
            var options = EngineHarness.fastOptions
            options.windowDays = 400
            let report = try await h.full(options)
            #expect(report.windowsLoaded > 0)
            // Both resets happened (the simulator used them up), and the files still arrived whole.
            #expect(h.sim.faults.downloadDrops.isEmpty, "a reset at byte \(at) never happened")
            try await Self.expectReference(h, "reset at byte \(at)")
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }
}
