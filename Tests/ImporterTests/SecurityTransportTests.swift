import Foundation
import HTTP
import Importer
import ShopifyAdmin
import ShopifySimulator
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `openssl s_server` with a fresh self-signed certificate on 127.0.0.1: a TLS peer that fails verification.
final class SelfSignedTLSServer: @unchecked Sendable {
    let process = Process()
    let port: Int
    let dir: String

    init() throws {
        let openssl = ["/usr/bin/openssl", "/bin/openssl"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let openssl else { throw TLSServerError(message: "openssl is not installed (apt-get install openssl)") }
        dir = try SecurityCLI.temporaryFolder("tls")
        let made = try runProcess(
            openssl,
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", dir + "/key.pem", "-out",
                dir + "/cert.pem", "-days", "1",
            ])
        guard made.status == 0 else { throw TLSServerError(message: "openssl req failed: \(made.stderr)") }
        // Line-buffered (stdbuf), so that the ACCEPT line arrives while the server runs.
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/stdbuf") else {
            throw TLSServerError(message: "stdbuf (coreutils) is not installed")
        }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/stdbuf")
        process.arguments = [
            "-oL", openssl, "s_server", "-accept", "127.0.0.1:0", "-cert", dir + "/cert.pem", "-key", dir + "/key.pem", "-www",
        ]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // s_server prints "ACCEPT 127.0.0.1:PORT" once it listens.
        var seen = ""
        var found: Int?
        while found == nil {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
            if let line = seen.split(separator: "\n").first(where: { $0.hasPrefix("ACCEPT ") }), let colon = line.lastIndex(of: ":") {
                found = Int(line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
        }
        guard let found else { throw TLSServerError(message: "openssl s_server did not start: \(seen)") }
        port = found
    }

    func stop() {
        // s_server ignores SIGTERM.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: dir)
    }
}

@Suite("Security: result URLs, redirects, proxies and TLS failures")
struct SecurityTransportTests {
    @Test("the download rule is the client's: user info and plain http off loopback are refused, HTTPS:// is https")
    func resultURLRule() async throws {
        let userInfo = try await SecurityCLI.run(["download", "http://127.0.0.1@example.invalid/x", "--out", "/dev/null"])
        #expect(userInfo.status == 2)
        #expect(
            userInfo.stderr.hasPrefix(
                "Error: the URL http://127.0.0.1@example.invalid/x has user info before '@' (its host is 'example.invalid', not what precedes the '@'): give the URL without user info\n"
            ), "\(userInfo.stderr)")
        let plain = try await SecurityCLI.run(["download", "http://example.invalid/x?sig=secret", "--out", "/dev/null"])
        #expect(plain.status == 2)
        #expect(
            plain.stderr.hasPrefix(
                "Error: the URL http://example.invalid/x uses plain http:// for 'example.invalid': only 127.0.0.1, ::1 and localhost may be reached without TLS\n"
            ), "\(plain.stderr)")
        #expect(!plain.stderr.contains("sig=secret"))
        #expect(throws: Never.self) { try ShopEndpoint.validateResultURL("HTTPS://storage.example/x?sig=1") }
        #expect(throws: Never.self) { try ShopEndpoint.validateResultURL("HTTP://[::1]:8080/x") }
        #expect(HTTPTransport.problem("http://127.0.0.1@example.invalid/x") != nil)
        #expect(HTTPTransport.problem("HTTPS://example.invalid/x") == nil)
    }

    @Test("a redirect from a loopback URL stays on loopback; https never goes down to http")
    func redirects() async throws {
        let body = Array("line\n".utf8)
        let target = try TestHTTPServer { request in .file(body, for: request) }
        let redirector = try TestHTTPServer { request in
            if request.path == "/away" { return TestHTTPResponse(status: 302, headers: [("Location", "http://example.invalid/x")]) }
            return TestHTTPResponse(status: 302, headers: [("Location", target.baseURL + "/file")])
        }
        let dir = try SecurityCLI.temporaryFolder("redirect")
        defer { try? FileManager.default.removeItem(atPath: dir) }

        let away = try await SecurityCLI.run(["download", redirector.baseURL + "/away", "--out", dir + "/a.jsonl"])
        #expect(away.status == 1)
        #expect(
            away.stderr
                == "Error: HTTP redirect-refused error for \(redirector.baseURL)/away: refused the redirect to http://example.invalid/x: plain http:// is allowed only to 127.0.0.1, ::1 and localhost, not to 'example.invalid' (status 302)\n"
        )
        #expect(!FileManager.default.fileExists(atPath: dir + "/a.jsonl"))

        let local = try await SecurityCLI.run(["download", redirector.baseURL + "/here", "--out", dir + "/b.jsonl"])
        #expect(local.status == 0, "\(local.stderr)")
        #expect(try String(contentsOfFile: dir + "/b.jsonl", encoding: .utf8) == "line\n")
        #expect(target.requests.count == 1)

        #expect(
            HTTPTransport.redirectProblem(from: "https://a.example/x", to: "http://127.0.0.1/y")
                == "a redirect may not go from https:// to plain http://")
        #expect(HTTPTransport.redirectProblem(from: "http://127.0.0.1/x", to: "https://storage.example/y") == nil)
    }

    @Test("with http_proxy set, loopback requests (and the token of a loopback API base) never go to the proxy")
    func proxyBypassForLoopback() async throws {
        let proxy = try TestHTTPServer { _ in TestHTTPResponse(status: 502) }
        let body = Array("x\n".utf8)
        let server = try TestHTTPServer { request in .file(body, for: request) }
        let dir = try SecurityCLI.temporaryFolder("proxy")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let proxyEnv = ["http_proxy": proxy.baseURL, "HTTP_PROXY": proxy.baseURL, "no_proxy": "internal.example"]
        let r = try await SecurityCLI.run(["download", server.baseURL + "/f", "--out", dir + "/f.jsonl"], environment: proxyEnv)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(server.requests.count == 1)
        #expect(proxy.requests.isEmpty)
        #expect(try String(contentsOfFile: dir + "/f.jsonl", encoding: .utf8) == "x\n")

        guard TestEnvironment.databaseTestsEnabled else { return }
        let token = "shpat_proxy_test_token_5e6f"
        let sim = try await ShopifySimulator.start(SimulatorConfig(seed: 1, customers: 2, orders: 2, apps: [.legacy(token: token)]))
        defer { Task { await sim.stop() } }
        let db = try TestDatabase()
        var env = proxyEnv
        env["SIM_TOKEN"] = token
        try SecurityCLI.migrate(db)
        let add = try await SecurityCLI.run(
            ["shop", "add", "sim", "--store", "sim-shop", "--token-env", "SIM_TOKEN", "--api-base", sim.baseURL, "--database-url", db.url],
            environment: env)
        #expect(add.status == 0, "\(add.stderr)")
        #expect(proxy.requests.isEmpty, "the proxy saw \(proxy.requests.map(\.path))")
    }

    @Test("a certificate that fails verification is reported at once with the cause, not retried", .timeLimit(.minutes(1)))
    func tlsVerificationFailure() async throws {
        let tls = try SelfSignedTLSServer()
        defer { tls.stop() }
        let dir = try SecurityCLI.temporaryFolder("tlsout")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let url = "HTTPS://127.0.0.1:\(tls.port)/result.jsonl"
        let r = try await SecurityCLI.run(["download", url, "--out", dir + "/r.jsonl"])
        #expect(r.status == 1)
        #expect(
            r.stderr.hasPrefix("Error: HTTP tls error for \(url): TLS verification failed, so nothing was sent: SSL certificate problem: "),
            "\(r.stderr)")
        #expect(r.stderr.contains("(curl code 60)"))
        #expect(!r.stderr.contains("gave up"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)

        guard TestEnvironment.databaseTestsEnabled else { return }
        let db = try TestDatabase()
        try SecurityCLI.migrate(db)
        let add = try await SecurityCLI.run(
            [
                "shop", "add", "tls", "--store", "tls-shop", "--token-env", "SIM_TOKEN", "--api-base", "https://127.0.0.1:\(tls.port)",
                "--database-url", db.url,
            ], environment: ["SIM_TOKEN": "shpat_tls_test_token_1"])
        #expect(add.status == 1)
        #expect(
            add.stderr.hasPrefix(
                "Error [shop-not-verified]: cannot verify shop 'tls' (tls-shop.myshopify.com): Shopify http (tls-shop): GraphQL request failed: TLS verification failed, so nothing was sent: SSL certificate problem: "
            ), "\(add.stderr)")
        #expect(!add.stderr.contains("failed 3 times"))
    }
}

struct TLSServerError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
