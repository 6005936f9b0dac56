import Foundation
import ShopifySimulator
import Testing

/// A response fetched with /usr/bin/curl (the project's HTTP module is not merged yet).
struct CurlResponse {
    var status: Int
    var headers: [String: String]
    var body: Data
    /// curl's exit code (18: transfer closed with outstanding read data).
    var exitCode: Int32

    var text: String { String(decoding: body, as: UTF8.self) }
    var json: Any? { try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) }
    var object: [String: Any] { json as? [String: Any] ?? [:] }
    func header(_ name: String) -> String? { headers[name.lowercased()] }
}

enum Curl {
    /// Runs curl on a dispatch thread, so that waiting never blocks the cooperative pool that
    /// the simulator's own server runs on.
    static func run(_ url: String, method: String = "GET", headers: [String: String] = [:], body: Data? = nil, extra: [String] = [])
        async throws -> CurlResponse
    {
        try await withCheckedThrowingContinuation { cont in
            // A thread of its own: libdispatch's global pool adds threads slowly on 2 cores.
            Thread {
                cont.resume(with: Result { try runBlocking(url, method: method, headers: headers, body: body, extra: extra) })
            }.start()
        }
    }

    static func runBlocking(_ url: String, method: String, headers: [String: String], body: Data?, extra: [String]) throws -> CurlResponse {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("simtest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let headerFile = dir.appendingPathComponent("h"), bodyFile = dir.appendingPathComponent("b"),
            inFile = dir.appendingPathComponent("in")
        var args = ["-s", "-X", method, "-D", headerFile.path, "-o", bodyFile.path, "-w", "%{http_code}", "--max-time", "30"]
        if method == "HEAD" { args = ["-s", "-I", "-D", headerFile.path, "-o", bodyFile.path, "-w", "%{http_code}", "--max-time", "30"] }
        for (k, v) in headers { args += ["-H", "\(k): \(v)"] }
        if let body {
            try body.write(to: inFile)
            args += ["--data-binary", "@\(inFile.path)"]
        }
        args += extra
        args.append(url)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let code = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        var hs: [String: String] = [:]
        if let raw = try? String(contentsOf: headerFile, encoding: .utf8) {
            for line in raw.split(whereSeparator: { $0 == "\r\n" || $0 == "\n" }) {
                let parts = line.split(separator: ":", maxSplits: 1)
                if parts.count == 2 { hs[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces) }
            }
        }
        return CurlResponse(
            status: Int(String(decoding: code, as: UTF8.self)) ?? 0, headers: hs,
            body: (try? Data(contentsOf: bodyFile)) ?? Data(), exitCode: p.terminationStatus)
    }
}

/// Convenience around a running simulator.
struct Client {
    let sim: ShopifySimulator
    var token: String?
    var version = "2026-01"

    init(_ sim: ShopifySimulator, token: String? = nil, version: String = "2026-01") {
        self.sim = sim
        self.token = token ?? sim.legacyToken
        self.version = version
    }

    func post(_ query: String, variables: [String: Any] = [:], version: String? = nil) async throws -> CurlResponse {
        var h = ["Content-Type": "application/json"]
        if let token { h["X-Shopify-Access-Token"] = token }
        let body = try JSONSerialization.data(withJSONObject: ["query": query, "variables": variables])
        return try await Curl.run(sim.graphQLURL(version: version ?? self.version), method: "POST", headers: h, body: body)
    }

    /// Runs a query and returns the whole response object.
    func gql(_ query: String, variables: [String: Any] = [:], version: String? = nil) async throws -> [String: Any] {
        let r = try await post(query, variables: variables, version: version)
        #expect(r.status == 200, "status \(r.status): \(r.text)")
        return r.object
    }

    /// Submits a bulk query; returns the payload (`bulkOperation`, `userErrors`).
    func runBulk(_ inner: String, groupObjects: Bool? = nil, version: String? = nil) async throws -> (
        id: String?, userErrors: [[String: Any]], response: [String: Any]
    ) {
        let args = groupObjects.map { ", groupObjects: \($0)" } ?? ""
        let q =
            "mutation R($q: String!) { bulkOperationRunQuery(query: $q\(args)) { bulkOperation { id status } userErrors { field message code } } }"
        let r = try await gql(q, variables: ["q": inner], version: version)
        let payload = ((r["data"] as? [String: Any])?["bulkOperationRunQuery"] as? [String: Any]) ?? [:]
        let op = payload["bulkOperation"] as? [String: Any]
        return (op?["id"] as? String, payload["userErrors"] as? [[String: Any]] ?? [], r)
    }

    /// Polls `node(id:)` until the operation ends.
    func wait(_ id: String, timeout: Double = 30) async throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let r = try await gql(
                "query($id: ID!) { node(id: $id) { ... on BulkOperation { id status errorCode objectCount rootObjectCount fileSize url partialDataUrl completedAt createdAt query type } } }",
                variables: ["id": id])
            let op = ((r["data"] as? [String: Any])?["node"] as? [String: Any]) ?? [:]
            let s = op["status"] as? String ?? ""
            if !["CREATED", "RUNNING", "CANCELING"].contains(s) || Date() > deadline { return op }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
    }

    /// Runs a bulk query to completion and downloads its lines.
    func export(_ inner: String, groupObjects: Bool? = nil, version: String? = nil) async throws -> (
        op: [String: Any], lines: [[String: Any]]
    ) {
        let run = try await runBulk(inner, groupObjects: groupObjects, version: version)
        guard let id = run.id else {
            Issue.record("bulk run rejected: \(run.userErrors)")
            return ([:], [])
        }
        let op = try await wait(id)
        guard let url = op["url"] as? String else { return (op, []) }
        let d = try await Curl.run(url)
        return (op, lines(d.body))
    }

    func lines(_ data: Data) -> [[String: Any]] {
        data.split(separator: 0x0A).compactMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
    }
}

extension Dictionary where Key == String, Value == Any {
    func path(_ keys: String...) -> Any? {
        var cur: Any? = self
        for k in keys { cur = (cur as? [String: Any])?[k] }
        return cur
    }
}

func startSim(_ configure: (inout SimulatorConfig) -> Void = { _ in }) async throws -> ShopifySimulator {
    var c = SimulatorConfig(seed: 7, customers: 30, orders: 80)
    configure(&c)
    return try await ShopifySimulator.start(c)
}
