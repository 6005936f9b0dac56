import Foundation
import HTTP
import ShopifySimulator
import Testing

/// The same simulator, driven through the project's libcurl `HTTP` module.
@Suite("Simulator through the libcurl HTTP client")
struct ProjectHTTPClientTests {
    func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { cont in Thread { cont.resume(with: Result { try body() }) }.start() }
    }

    @Test func graphQLThenAResumedDownloadThatWasCutThreeTimes() async throws {
        let sim = try await startSim { $0.orders = 200 }
        defer { Task { await sim.stop() } }
        let client = HTTPClient()
        let token = try #require(sim.legacyToken)
        func gql(_ query: String, _ variables: [String: Any] = [:]) async throws -> [String: Any] {
            let body = try JSONSerialization.data(withJSONObject: ["query": query, "variables": variables])
            let r = try await client.execute(
                HTTPRequest(
                    method: .post, url: sim.graphQLURL(),
                    headers: [("Content-Type", "application/json"), ("X-Shopify-Access-Token", token)], body: Array(body)))
            #expect(r.status == 200)
            return try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any] ?? [:]
        }
        let run = try await gql(
            "mutation($q: String!) { bulkOperationRunQuery(query: $q, groupObjects: false) { bulkOperation { id } userErrors { message } } }",
            ["q": orderQuery])
        let id = try #require(run.path("data", "bulkOperationRunQuery", "bulkOperation", "id") as? String)
        var op: [String: Any] = [:]
        for _ in 0..<500 {
            op =
                try await gql("query($id: ID!) { bulkOperation(id: $id) { status url fileSize } }", ["id": id]).path(
                    "data", "bulkOperation") as? [String: Any] ?? [:]
            if op["status"] as? String == "COMPLETED" { break }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        let url = try #require(op["url"] as? String)
        let size = try #require(Int(op["fileSize"] as? String ?? ""))
        sim.addFaults(SimulatorFaults(downloadDrops: [DownloadDrop(afterBytes: size / 5, count: 3)]))
        final class Sink: @unchecked Sendable { var bytes: [UInt8] = [] }
        let sink = Sink()
        let summary = try await blocking {
            try client.download(url: url, policy: DownloadPolicy(initialBackoff: .milliseconds(10))) { chunk in
                sink.bytes.append(contentsOf: chunk)
            }
        }
        let file = try Data(contentsOf: try #require(sim.operation(id)?.resultFile))
        #expect(Data(sink.bytes) == file)
        #expect(summary.attempts == 4)
        #expect(summary.resumedAt.count == 3)
        // The token went to the shop only, never to the storage host.
        let reqs = sim.recordedRequests
        #expect(reqs.filter { $0.listener == "files" }.count == 4)
        #expect(
            reqs.filter { $0.listener == "files" }.allSatisfy {
                $0.header("X-Shopify-Access-Token") == nil && $0.header("Authorization") == nil
            })
        #expect(reqs.filter { $0.listener == "files" }.dropFirst().allSatisfy { $0.header("Range") != nil })
        #expect(reqs.filter { $0.listener == "api" }.allSatisfy { $0.header("X-Shopify-Access-Token") == "[REDACTED]" })
    }
}
