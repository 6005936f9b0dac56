import Foundation
import Logging
import ShopifyAdmin
import TestSupport
import Testing

/// `shopbulk demo` runs the simulator as a child process (the `shopify-sim` executable), which
/// ends with the demo however the demo ends.
@Suite("The demo's simulator is a child process", .enabled(if: TestEnvironment.databaseTestsEnabled))
struct DemoProcessTests {
    /// The children of `pid` (every thread's), from /proc.
    static func children(of pid: Int32) -> [Int32] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.flatMap { task in
            ((try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8)) ?? "")
                .split(separator: " ").compactMap { Int32($0) }
        }
    }

    @Test("SIGKILL of the demo in the middle of its import ends its shopify-sim too", .timeLimit(.minutes(3)))
    func simulatorEndsWithTheDemo() async throws {
        let db = try TestDatabase()
        let demo = try ImportProcess(arguments: [
            "demo", "--customers", "2000", "--orders", "8000", "--yes", "--database-url", db.url, "--log-level", "info",
        ])
        defer { if demo.process.isRunning { kill(demo.process.processIdentifier, SIGKILL) } }
        // The import has begun: the simulator answers.
        let importing = await demo.waitForLine(containing: "bulk operation submitted", seconds: 120)
        #expect(importing, "the demo's import never started: \(demo.tail())")
        let sims = Self.children(of: demo.process.processIdentifier).filter { child in
            ((try? String(contentsOfFile: "/proc/\(child)/comm", encoding: .utf8)) ?? "").hasPrefix("shopify-sim")
        }
        #expect(sims.count == 1, "children: \(Self.children(of: demo.process.processIdentifier))")
        let sim = try #require(sims.first)
        kill(demo.process.processIdentifier, SIGKILL)
        let end = await demo.wait()
        #expect(end.signaled && end.status == SIGKILL)
        // Not our child, so no exit event reaches us: look until it is gone, at most 20 s.
        let deadline = ContinuousClock.now + .seconds(20)
        while kill(sim, 0) == 0 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        let gone = kill(sim, 0) != 0
        #expect(gone, "shopify-sim \(sim) still runs 20 s after the demo was killed")
        if !gone { kill(sim, SIGKILL) }
    }

    @Test("shopify-sim --shops 2 --json announces the token from SHOPIFY_SIM_TOKEN, and both shops accept it")
    func fleetAnnouncesItsToken() async throws {
        let token = "shpat_test_\(UInt64.random(in: 0...UInt64.max))"
        let process = Process()
        process.executableURL = URL(
            fileURLWithPath: (TestEnvironment.shopbulkBinary as NSString).deletingLastPathComponent + "/shopify-sim")
        process.arguments = ["--shops", "2", "--json", "--stop-on-stdin-eof", "--customers", "3", "--orders", "3"]
        var environment = ProcessInfo.processInfo.environment
        environment["SHOPIFY_SIM_TOKEN"] = token
        process.environment = environment
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        defer {
            try? stdin.fileHandleForWriting.close()
            process.waitUntilExit()
        }
        var line = Data()
        while let byte = try stdout.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte.first != 10 { line.append(byte) }
        struct Summary: Decodable {
            struct Shop: Decodable {
                var name: String
                var baseURL: String
            }
            var legacyToken: String
            var shops: [Shop]
        }
        let summary = try JSONDecoder().decode(Summary.self, from: line)
        #expect(summary.legacyToken == token)
        #expect(summary.shops.count == 2)
        for shop in summary.shops {
            let client = ShopifyAdminClient(
                endpoint: try ShopEndpoint(store: String(shop.name.prefix { $0 != "." }), apiBase: shop.baseURL),
                credentials: .accessToken(Secret(summary.legacyToken)), logger: Logger(label: "test"))
            let scopes = try await client.checkScopes()
            #expect(scopes.has("read_orders"), "\(shop.name)")
        }
    }
}
