import Foundation
import TestSupport
import Testing

@Suite("shopbulk serve against docs/openapi.yaml (schemathesis)", .serialized, .enabled(if: TestEnvironment.databaseTestsEnabled))
struct ServeContractTests {
    @Test("schemathesis finds no failures against the running server with a valid key")
    func schemathesis() async throws {
        let h = try ServeHarness()
        try await Fixture.load(into: h)
        let key = try await h.createKey("schemathesis")
        let s = try h.start()
        let spec = TestEnvironment.packageRoot + "/docs/openapi.yaml"
        var env = ProcessInfo.processInfo.environment
        env["SCHEMATHESIS_TELEMETRY"] = "false"
        env["NO_COLOR"] = "1"
        let environment = env
        let r = try await onThread {
            try runProcess(
                "/usr/bin/env",
                [
                    "schemathesis", "run", spec, "--url", s.base, "--header", "Authorization: Bearer \(key)", "--max-examples", "60",
                    "--seed", "20261202", "--no-color",
                ], environment: environment, currentDirectory: h.dir)
        }
        let summary = r.stdout.split(separator: "\n").suffix(25).joined(separator: "\n")
        print("schemathesis summary:\n\(summary)")
        #expect(r.status == 0, "schemathesis exit \(r.status):\n\(r.stdout.suffix(6000))\n\(r.stderr.suffix(2000))")
        #expect(!r.stdout.contains("failures"), "\(summary)")
        #expect(r.stdout.contains("Tested: 7"), "\(summary)")
        // It reached real data (the examples hit desk / ann@example.com) and the server never failed.
        #expect(s.log.contains("http.route=/v1/shops/{shop}/contacts http.status=200"))
        #expect(!s.log.contains("http.status=500"))
        #expect(!s.log.contains(key))
    }
}

/// Runs blocking work off the cooperative pool.
func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            do { continuation.resume(returning: try work()) } catch { continuation.resume(throwing: error) }
        }
    }
}
