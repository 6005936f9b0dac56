import Foundation
import HTTP
import Importer
import TrustedFiles

/// The bundled Shopify simulator (`shopify-sim`) as a child process of `shopbulk demo`, so that the
/// tool people deploy carries no web server of its own. It listens on 127.0.0.1 on ports of its
/// choosing, tells them on its first line of output (`--json`), and stops when the demo closes its
/// standard input: on the demo's exit, however it ends.
final class SimulatorProcess: @unchecked Sendable {
    let baseURL: String
    let shopDomain: String
    let token: String
    private let process: Process
    private let stdin: Pipe
    private let http = HTTPClient()

    /// Where `shopify-sim` is: `SHOPBULK_SIMULATOR`, else beside this executable (where
    /// `swift build` and `scripts/demo` put it), else on `PATH`.
    static func executable() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["SHOPBULK_SIMULATOR"], !explicit.isEmpty { return explicit }
        var candidates = [ResourceLocator.executableDirectory() + "/shopify-sim"]
        for dir in (environment["PATH"] ?? "").split(separator: ":") { candidates.append("\(dir)/shopify-sim") }
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return found }
        throw ShopError(
            .simulatorFailed,

            "shopbulk demo needs the simulator executable shopify-sim, which is not beside shopbulk or on PATH (looked in \(candidates.prefix(1).joined())); build it with `swift build -c release --product shopify-sim` (scripts/demo does), or set SHOPBULK_SIMULATOR to its path"
        )
    }

    /// Starts the simulator with a random access token and waits for it to say where it listens.
    static func start(customers: Int, orders: Int, seed: UInt64) throws -> SimulatorProcess {
        let token = "shpat_demo_" + (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try executable())
        process.arguments = [
            "--json", "--stop-on-stdin-eof", "--customers", String(customers), "--orders", String(orders), "--seed", String(seed),
        ]
        // The token by environment, not argv (which other users of the machine can read).
        var environment = ProcessInfo.processInfo.environment
        environment["SHOPIFY_SIM_TOKEN"] = token
        process.environment = environment
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        // The first line is the JSON summary; nothing else comes on stdout.
        var line = Data()
        let reader = stdout.fileHandleForReading
        while true {
            let chunk = reader.readData(ofLength: 1)
            if chunk.isEmpty || chunk.first == 10 { break }
            line.append(chunk)
        }
        struct Summary: Decodable {
            var baseURL: String
            var shop: String
        }
        guard let summary = try? JSONDecoder().decode(Summary.self, from: line) else {
            process.terminate()
            process.waitUntilExit()
            throw ShopError(
                .simulatorFailed,

                "the simulator (\(process.executableURL?.path ?? "shopify-sim")) did not start: exit \(process.terminationStatus), its first line was \(String(decoding: line.prefix(300), as: UTF8.self).visiblyEscaped)"
            )
        }
        return SimulatorProcess(process: process, stdin: stdin, baseURL: summary.baseURL, shopDomain: summary.shop, token: token)
    }

    private init(process: Process, stdin: Pipe, baseURL: String, shopDomain: String, token: String) {
        self.process = process
        self.stdin = stdin
        self.baseURL = baseURL
        self.shopDomain = shopDomain
        self.token = token
    }

    /// Records the simulator changed: the GIDs of customers and orders.
    struct Change: Decodable {
        var customers: [String]
        var orders: [String]
    }

    /// `POST /_sim/ACTION` with `{"orders": N, "customers": M}` (touch, add, delete).
    func change(_ action: String, orders: Int, customers: Int) async throws -> Change {
        let body = Array(#"{"orders":\#(orders),"customers":\#(customers)}"#.utf8)
        let response = try await http.execute(
            HTTPRequest(method: .post, url: "\(baseURL)/_sim/\(action)", headers: [("Content-Type", "application/json")], body: body))
        guard response.status == 200, let change = try? JSONDecoder().decode(Change.self, from: Data(response.body)) else {
            throw ShopError(.simulatorFailed, "the simulator answered \(response.status) to /_sim/\(action)")
        }
        return change
    }

    /// Closes the simulator's standard input (it stops) and waits for it.
    func stop() {
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
