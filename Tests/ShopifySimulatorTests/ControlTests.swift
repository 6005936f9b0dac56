import Foundation
import ShopifySimulator
import Testing

@Suite("Control endpoints and shop changes (over HTTP)")
struct ControlTests {
    @Test func touchAddDeleteThenADeltaExportSeesExactlyThose() async throws {
        let sim = try await startSim()
        defer { Task { await sim.stop() } }
        let c = Client(sim)
        let json = ["Content-Type": "application/json"]
        let since = ISOTime(sim.now - 1)
        let t = try await Curl.run(
            sim.baseURL + "/_sim/touch", method: "POST", headers: json, body: Data(#"{"orders":4,"customers":2}"#.utf8))
        #expect(t.status == 200)
        let touched = try #require(t.object["orders"] as? [String])
        #expect(touched.count == 4)
        #expect((t.object["customers"] as? [String])?.count == 2)
        let a = try await Curl.run(sim.baseURL + "/_sim/add", method: "POST", headers: json, body: Data(#"{"orders":3}"#.utf8))
        let added = try #require(a.object["orders"] as? [String])
        #expect(added.count == 3)
        let d = try await Curl.run(sim.baseURL + "/_sim/delete", method: "POST", headers: json, body: Data(#"{"orders":2}"#.utf8))
        let deleted = try #require(d.object["orders"] as? [String])
        let byId = try await Curl.run(
            sim.baseURL + "/_sim/delete", method: "POST", headers: json, body: Data("{\"orderIds\":[\"\(touched[0])\"]}".utf8))
        #expect(byId.object["orders"] as? [String] == [touched[0]])

        let delta = try await c.export(
            "{ orders(query: \"updated_at:>='\(since)'\", sortKey: UPDATED_AT) { edges { node { id updatedAt tags } } } }")
        let ids = Set(delta.lines.map { $0["id"] as! String })
        #expect(ids == Set(touched.dropFirst()).union(added).subtracting(deleted))
        #expect(
            delta.lines.filter { touched.contains($0["id"] as! String) }.allSatisfy {
                ($0["tags"] as? [String])?.contains("touched") == true
            })
        let full = try await c.export("{ orders { edges { node { id } } } }")
        let all = Set(full.lines.map { $0["id"] as! String })
        #expect(all.count == 80 + 3 - 3)
        #expect(all.isDisjoint(with: deleted + [touched[0]]))
        #expect(Set(sim.shop.orders.map(\.gid)) == all)

        let state = try await Curl.run(sim.baseURL + "/_sim/state")
        #expect(state.object.path("shop", "orders") as? Int == 80)
        #expect(state.object.path("shop", "deletedOrders") as? Int == 3)
        #expect((state.object["operations"] as? [Any])?.count == 2)
        #expect(state.object["filesBaseURL"] as? String == sim.filesBaseURL)
    }

    @Test func recordedRequestsAreServedAndRedacted() async throws {
        let sim = try await startSim()
        defer { Task { await sim.stop() } }
        let c = Client(sim)
        _ = try await c.post("{ shop { name } }")
        _ = try await Curl.run(
            sim.accessTokenURL, method: "POST", headers: ["Content-Type": "application/x-www-form-urlencoded"],
            body: Data("grant_type=client_credentials&client_id=sim-client-id-0001&client_secret=shpss_sim_client_secret_000000000000".utf8)
        )
        let r = try await Curl.run(sim.baseURL + "/_sim/requests")
        #expect(r.status == 200)
        let list = try #require(r.json as? [[String: Any]])
        #expect(list.count == 2)  // control requests are not recorded
        #expect(!r.text.contains("shpat_sim_legacy"))
        #expect(!r.text.contains("shpss_"))
        #expect(list[0]["path"] as? String == "/admin/api/2026-01/graphql.json")
        #expect(list[0]["port"] as? Int == sim.port)
        #expect(sim.recordedRequests[1].body?.contains("client_secret=[REDACTED]") == true)
        // tokens issued by the grant never show up either
        #expect(sim.recordedRequests.allSatisfy { !($0.body ?? "").contains("access_token\":\"shpat") })
        _ = try await Curl.run(sim.baseURL + "/_sim/requests", method: "DELETE")
        #expect(sim.recordedRequests.isEmpty)
        #expect(try await Curl.run(sim.baseURL + "/_sim/clock", method: "POST", body: Data(#"{"advance":60}"#.utf8)).status == 200)
    }
}

private func ISOTime(_ t: Double) -> String {
    let f = ISO8601DateFormatter()
    return f.string(from: Date(timeIntervalSince1970: t.rounded(.down)))
}
