import Foundation
import ShopifySimulator
import Testing

@Suite("Auth, scopes, versions, throttling (over HTTP)")
struct AuthAndAPITests {
    @Test func missingWrongAndExpiredTokensGet401() async throws {
        let sim = try await startSim()
        defer { Task { await sim.stop() } }
        let expected = #"{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}"#
        var c = Client(sim)
        c.token = nil
        var r = try await c.post("{ shop { name } }")
        #expect(r.status == 401)
        #expect(r.text == expected)
        c.token = "shpat_wrong"
        r = try await c.post("{ shop { name } }")
        #expect(r.status == 401)
        #expect(r.text == expected)

        let short = try #require(sim.issueToken(app: "dev-dashboard-app", lifetime: 60))
        c.token = short
        r = try await c.post("{ shop { name } }")
        #expect(r.status == 200)
        sim.advanceClock(by: 61)
        r = try await c.post("{ shop { name } }")
        #expect(r.status == 401)
        #expect(r.text == expected)
    }

    @Test func clientCredentialsGrant() async throws {
        let sim = try await startSim { c in
            c.tokenLifetime = 120
            c.apps = [
                .devDashboard(), SimulatedApp(name: "other-org", clientId: "foreign-id", clientSecret: "s3", crossOrganization: true),
            ]
        }
        defer { Task { await sim.stop() } }
        let form = ["Content-Type": "application/x-www-form-urlencoded"]
        var r = try await Curl.run(
            sim.accessTokenURL, method: "POST", headers: form,
            body: Data("grant_type=client_credentials&client_id=sim-client-id-0001&client_secret=shpss_sim_client_secret_000000000000".utf8)
        )
        #expect(r.status == 200)
        let token = try #require(r.object["access_token"] as? String)
        #expect(r.object["expires_in"] as? Int == 120)
        #expect(r.object["scope"] as? String == "read_customers,read_orders")
        let c = Client(sim, token: token)
        #expect(try await c.gql("{ shop { name } }").path("data", "shop", "name") as? String == "sim-shop")
        sim.advanceClock(by: 121)
        #expect(try await c.post("{ shop { name } }").status == 401)

        r = try await Curl.run(
            sim.accessTokenURL, method: "POST", headers: form,
            body: Data("grant_type=client_credentials&client_id=sim-client-id-0001&client_secret=nope".utf8))
        #expect(r.status == 401)
        #expect(r.object["error"] as? String == "invalid_client")
        r = try await Curl.run(
            sim.accessTokenURL, method: "POST", headers: form,
            body: Data("grant_type=client_credentials&client_id=foreign-id&client_secret=s3".utf8))
        #expect(r.status == 400)
        #expect(r.object["error"] as? String == "shop_not_permitted")
        r = try await Curl.run(sim.accessTokenURL, method: "POST", headers: form, body: Data("grant_type=password&client_id=x".utf8))
        #expect(r.object["error"] as? String == "unsupported_grant_type")

        // The secret never reaches the recorded requests.
        let recorded = sim.recordedRequests.filter { $0.path == "/admin/oauth/access_token" }
        #expect(recorded.count == 4)
        for q in recorded where q.body?.contains("client_secret") == true {
            #expect(q.body?.contains("shpss_") == false)
            #expect(q.body?.contains("client_secret=[REDACTED]") == true)
        }
        #expect(
            sim.recordedRequests.allSatisfy {
                $0.header("X-Shopify-Access-Token") == nil || $0.header("X-Shopify-Access-Token") == "[REDACTED]"
            })
    }

    @Test func accessScopesAndAccessDenied() async throws {
        let sim = try await startSim { c in
            c.apps = [.legacy("customers-only", token: "shpat_co", scopes: ["read_customers"])]
        }
        defer { Task { await sim.stop() } }
        let c = Client(sim, token: "shpat_co")
        let scopes = try await c.gql("{ currentAppInstallation { accessScopes { handle } } }")
        #expect(
            (scopes.path("data", "currentAppInstallation", "accessScopes") as? [[String: Any]])?.compactMap { $0["handle"] as? String } == [
                "read_customers"
            ])

        // Normal query: ACCESS_DENIED error, data null.
        let r = try await c.gql("{ orders(first: 2) { nodes { id } } }")
        #expect(r.path("data", "orders") is NSNull)
        let err = (r["errors"] as? [[String: Any]])?.first
        #expect((err?["extensions"] as? [String: Any])?["code"] as? String == "ACCESS_DENIED")

        // Bulk: accepted, then FAILED with ACCESS_DENIED.
        let run = try await c.runBulk("{ orders { edges { node { id } } } }")
        let id = try #require(run.id)
        let op = try await c.wait(id)
        #expect(op["status"] as? String == "FAILED")
        #expect(op["errorCode"] as? String == "ACCESS_DENIED")
        #expect(op["url"] is NSNull)
        // customers are fine
        let ok = try await c.export("{ customers { edges { node { id } } } }")
        #expect(ok.op["status"] as? String == "COMPLETED")
        #expect(ok.lines.count == 30)
    }

    @Test func throttlingReturnsThrottledWithCostExtensions() async throws {
        let sim = try await startSim { c in c.throttle = ThrottleConfig(maximumAvailable: 25, restoreRate: 1) }
        defer { Task { await sim.stop() } }
        let c = Client(sim)
        let first = try await c.gql("{ shop { name } }")
        let cost = try #require(first.path("extensions", "cost") as? [String: Any])
        #expect(cost["requestedQueryCost"] as? Int == 1)
        #expect(cost["actualQueryCost"] as? Int == 1)
        let ts = try #require(cost["throttleStatus"] as? [String: Any])
        #expect(ts["maximumAvailable"] as? Double == 25)
        #expect(ts["restoreRate"] as? Double == 1)
        #expect(ts["currentlyAvailable"] as? Int == 24)
        // Mutations cost 10: the third one does not fit.
        _ = try await c.runBulk("{ customers { edges { node { id } } } }")
        _ = try await c.runBulk("{ customers { edges { node { id } } } }")
        let r = try await c.post("mutation { bulkOperationCancel(id: \"gid://shopify/BulkOperation/1\") { userErrors { message } } }")
        #expect(r.status == 200)
        let errs = try #require(r.object["errors"] as? [[String: Any]])
        #expect(errs.first?["message"] as? String == "Throttled")
        let ext = errs.first?["extensions"] as? [String: Any]
        #expect(ext?["code"] as? String == "THROTTLED")
        #expect((ext?["documentation"] as? String)?.contains("shopify.dev") == true)
        #expect(r.object["data"] == nil)
        #expect(r.object.path("extensions", "cost", "actualQueryCost") is NSNull)
        #expect(r.object.path("extensions", "cost", "requestedQueryCost") as? Int == 10)
        // After restoring, it fits again.
        sim.advanceClock(by: 10)
        #expect(try await c.post("{ shop { name } }").object["errors"] == nil)
    }

    @Test func unknownFieldsAndVersionGatedFields() async throws {
        let sim = try await startSim()
        defer { Task { await sim.stop() } }
        let c = Client(sim)
        let r = try await c.gql("{ shop { name nope } }")
        let err = try #require((r["errors"] as? [[String: Any]])?.first)
        #expect(err["message"] as? String == "Field 'nope' doesn't exist on type 'Shop'")
        #expect(err["path"] as? [String] == ["query", "shop", "nope"])
        #expect(r["data"] == nil)
        // bulkOperation(id:) and bulkOperations exist from 2026-01 only.
        let old = try await c.gql("{ bulkOperation(id: \"gid://shopify/BulkOperation/1\") { id } }", version: "2025-10")
        #expect(
            ((old["errors"] as? [[String: Any]])?.first?["message"] as? String) == "Field 'bulkOperation' doesn't exist on type 'QueryRoot'"
        )
        let old2 = try await c.gql("{ bulkOperations(first: 1) { nodes { id } } }", version: "2025-10")
        #expect(
            ((old2["errors"] as? [[String: Any]])?.first?["message"] as? String)
                == "Field 'bulkOperations' doesn't exist on type 'QueryRoot'")
        // groupObjects does not exist before 2025-07.
        let g = try await c.post(
            "mutation { bulkOperationRunQuery(query: \"{ orders { edges { node { id } } } }\", groupObjects: false) { userErrors { message } } }",
            version: "2025-04")
        #expect(
            (g.object["errors"] as? [[String: Any]])?.first?["message"] as? String
                == "Field 'bulkOperationRunQuery' doesn't accept argument 'groupObjects'")
        // Versions
        #expect(
            try await Curl.run(
                sim.graphQLURL(version: "2026-02"), method: "POST", headers: ["X-Shopify-Access-Token": sim.legacyToken!],
                body: Data("{}".utf8)
            ).status == 404)
        let v = try await c.post("{ shop { name } }", version: "2025-10")
        #expect(v.header("X-Shopify-API-Version") == "2025-10")
        // deprecated currentBulkOperation in 2026-01 → deprecation header
        let d = try await c.post("{ currentBulkOperation { id } }")
        #expect(d.header("X-Shopify-API-Deprecated-Reason")?.contains("QueryRoot.currentBulkOperation") == true)
        #expect(try await c.post("{ currentBulkOperation { id } }", version: "2025-10").header("X-Shopify-API-Deprecated-Reason") == nil)
        let e = try await c.post("{ customers(first: 1) { nodes { email displayName } } }")
        #expect(e.header("X-Shopify-API-Deprecated-Reason")?.contains("Customer.email") == true)
        #expect(
            try await c.post("{ customers(first: 1) { nodes { email } } }", version: "2025-01").header("X-Shopify-API-Deprecated-Reason")
                == nil)
        #expect(
            try await c.post("{ customers(first: 1) { nodes { defaultEmailAddress { emailAddress } } } }").header(
                "X-Shopify-API-Deprecated-Reason") == nil)
        // missing required arguments
        let req = try await c.gql("mutation { bulkOperationRunQuery { userErrors { message } } }")
        #expect(
            (req["errors"] as? [[String: Any]])?.first?["message"] as? String
                == "Field 'bulkOperationRunQuery' is missing required arguments: query")
        // missing query
        let m = try await Curl.run(
            sim.graphQLURL(), method: "POST", headers: ["X-Shopify-Access-Token": sim.legacyToken!, "Content-Type": "application/json"],
            body: Data("{}".utf8))
        #expect(m.status == 400)
    }

    @Test func versionsFallForward() async throws {
        let sim = try await startSim { $0.oldestAccessibleVersion = "2026-01" }
        defer { Task { await sim.stop() } }
        let c = Client(sim)
        let r = try await c.post("{ bulkOperations(first: 1) { nodes { id } } }", version: "2025-04")
        #expect(r.header("X-Shopify-API-Version") == "2026-01")
        #expect(r.object["errors"] == nil)
    }

    @Test func normalQueriesPageCustomersAndOrders() async throws {
        let sim = try await startSim()
        defer { Task { await sim.stop() } }
        let c = Client(sim)
        let r = try await c.gql(
            "{ customers(first: 2, sortKey: ID) { edges { cursor node { id firstName } } pageInfo { hasNextPage endCursor } } }")
        let edges = try #require(r.path("data", "customers", "edges") as? [[String: Any]])
        #expect(edges.count == 2)
        let expected = Array(sim.shop.customers.prefix(3))
        #expect((edges[0]["node"] as? [String: Any])?["id"] as? String == expected[0].gid)
        let end = try #require(r.path("data", "customers", "pageInfo", "endCursor") as? String)
        #expect(r.path("data", "customers", "pageInfo", "hasNextPage") as? Bool == true)
        let next = try await c.gql("query($a: String) { customers(first: 1, after: $a) { nodes { id } } }", variables: ["a": end])
        #expect(((next.path("data", "customers", "nodes") as? [[String: Any]])?.first?["id"] as? String) == expected[2].gid)
        let o = sim.shop.orders.first!
        let one = try await c.gql(
            "query($id: ID!) { order(id: $id) { id name lineItems(first: 10) { nodes { id } } } }", variables: ["id": o.gid])
        #expect((one.path("data", "order", "lineItems", "nodes") as? [Any])?.count == o.lineItems.count)
        let missing = try await c.gql("{ orders(query: \"updated_at:>'2030-01-01'\") { nodes { id } } }")
        #expect((missing["errors"] as? [[String: Any]])?.first?["message"] as? String == "you must provide one of first or last")
    }
}
