import Foundation
import ShopifySimulator
import Testing

@testable import ShopifyAdmin

@Suite struct AuthIntegrationTests {
    @Test func legacyTokenFullExport() async throws {
        try await withSimulator { h in
            let client = try h.client(.legacy)
            try await client.checkScopes()
            let submitted = try await client.submitBulkQuery(query: ordersQuery, queryName: "orders.graphql")
            #expect(submitted.status == .created || submitted.status == .running)
            let done = try await client.waitForCompletion(id: submitted.id)
            #expect(done.status == .completed)
            let url = try #require(done.url)
            let (sink, summary) = try await client.downloadAll(url, fileSize: done.fileSize)
            let simOp = try #require(h.sim.operation(done.id))
            #expect(sink.bytes == fileBytes(simOp.resultFile))
            #expect(Int64(sink.bytes.count) == done.fileSize)
            #expect(summary.attempts == 1)
            #expect(sink.progress.last?.bytesDelivered == done.fileSize && sink.progress.last?.totalBytes == done.fileSize)
            #expect(simOp.groupObjects == false)
            // groupObjects went explicitly, the query as a variable.
            let submitBody = h.sim.recordedRequests.first { $0.body?.contains("bulkOperationRunQuery") == true }?.body ?? ""
            #expect(submitBody.contains(#""groupObjects":false"#))
            #expect(submitBody.contains("$query: String!"))
            assertCredentialsWentOnlyToTheShop(h)
            #expect(h.assertNoSecretsInLogs())
        }
    }

    @Test func clientCredentialsFullExport() async throws {
        try await withSimulator { h in
            let client = try h.client(.clientCredentials)
            let report = try await client.checkScopes()
            #expect(report.granted.contains("read_orders"))
            let op = try await client.submitBulkQuery(query: ordersQuery, groupObjects: true, queryName: "orders.graphql")
            let done = try await client.waitForCompletion(id: op.id)
            let (sink, _) = try await client.downloadAll(try #require(done.url))
            #expect(sink.bytes == fileBytes(h.sim.operation(done.id)?.resultFile))
            #expect(h.sim.operation(done.id)?.groupObjects == true)
            let grants = h.sim.recordedRequests.filter { $0.path == "/admin/oauth/access_token" }
            #expect(grants.count == 1)
            let body = try #require(grants.first?.body)
            #expect(body.contains("grant_type=client_credentials") && body.contains("client_id=\(clientID)"))
            #expect(grants.first?.header("Content-Type") == "application/x-www-form-urlencoded")
            #expect(await (client.tokens as! ClientCredentialsTokenProvider).grants == 1)
            assertCredentialsWentOnlyToTheShop(h)
            #expect(h.assertNoSecretsInLogs())
        }
    }

    @Test func tokenExpiringMidOperationIsRenewedAhead() async throws {
        try await withSimulator(configure: { c in
            c.tokenLifetime = 3
            c.speed = .duration(7)
        }) { h in
            // Renew at half the lifetime: a 1.5 s margin keeps in-flight polls valid on a loaded machine.
            let client = try h.client(.clientCredentials) { $0.tokenRenewal = TokenRenewalPolicy(renewalFraction: 0.5) }
            let op = try await client.submitBulkQuery(query: ordersQuery, queryName: "orders.graphql")
            let done = try await client.waitForCompletion(id: op.id)
            #expect(done.status == .completed)
            let provider = client.tokens as! ClientCredentialsTokenProvider
            #expect(await provider.grants >= 2)
            #expect(await client.statistics.unauthorizedResponses == 0)
            #expect(h.logs.contains(.info, "renewing the access token ahead of its expiry"))
            #expect(h.assertNoSecretsInLogs())
        }
    }

    @Test func tokenRejectedMidOperationIsRenewedOnceAndPollingContinues() async throws {
        try await withSimulator(configure: { c in c.speed = .duration(2) }) { h in
            let client = try h.client(.clientCredentials)
            let op = try await client.submitBulkQuery(query: ordersQuery, queryName: "orders.graphql")
            // A day passes on Shopify's side: every issued token has expired, the client does not know it.
            h.sim.advanceClock(by: 90_000)
            let done = try await client.waitForCompletion(id: op.id)
            #expect(done.status == .completed)
            #expect(await client.statistics.unauthorizedResponses == 1)
            #expect(await (client.tokens as! ClientCredentialsTokenProvider).grants == 2)
            #expect(h.sim.recordedRequests.filter { $0.status == 401 }.count == 1)
            #expect(h.logs.contains(.warning, "rejected the access token (401)"))
            #expect(h.assertNoSecretsInLogs())
        }
    }

    @Test func badLegacyTokenIsUnauthorizedWithoutALoop() async throws {
        try await withSimulator { h in
            let client = try h.client(.legacy, token: "shpat_wrong_token_value_000000000000")
            let e = await shopifyError { try await client.checkScopes() }
            #expect(e?.code == .unauthorized)
            #expect(e?.status == 401)
            #expect(e.map { !"\($0)".contains("shpat_wrong") } == true)
            #expect(h.sim.recordedRequests.count == 1)
        }
    }

    @Test func rejectedGrantsExplainThemselves() async throws {
        try await withSimulator(configure: { c in
            c.apps = [.legacy(), SimulatedApp(name: "other-org", clientId: clientID, clientSecret: clientSecret, crossOrganization: true)]
        }) { h in
            let client = try h.client(.clientCredentials)
            let e = await shopifyError { try await client.checkScopes() }
            #expect(e?.code == .grantRejected)
            #expect(e?.shopifyCode == "shop_not_permitted")
            #expect(e?.message.contains("same organization") == true)
            #expect(e.map { !"\($0)".contains(clientSecret) } == true)
        }
        try await withSimulator { h in
            let client = try h.client(.clientCredentials, secret: "shpss_not_the_secret_0000000000000")
            let e = await shopifyError { try await client.checkScopes() }
            #expect(e?.code == .grantRejected)
            #expect(e?.shopifyCode == "invalid_client")
            #expect(e.map { !"\($0)".contains("shpss_not_the_secret") } == true)
            #expect(h.assertNoSecretsInLogs())
        }
    }

    @Test func scopes() async throws {
        try await withSimulator(configure: { c in
            c.apps = [
                .legacy(scopes: ["read_customers"]),
                .devDashboard(scopes: ["read_customers", "write_orders", "read_all_orders"]),
            ]
        }) { h in
            let legacy = try h.client(.legacy)
            let e = await shopifyError { try await legacy.checkScopes() }
            #expect(e?.code == .missingScope)
            #expect(e?.scope == "read_orders")
            #expect(e?.message.contains("Admin API access scopes") == true)
            let dev = try h.client(.clientCredentials)
            let report = try await dev.checkScopes()
            #expect(report.has("read_orders") && report.hasAllOrders && report.warnings.isEmpty)
        }
        try await withSimulator { h in
            let report = try await h.client(.clientCredentials).checkScopes()
            #expect(report.warnings.first?.contains("60 days") == true)
            #expect(h.logs.contains(.warning, "read_all_orders"))
        }
        try await withSimulator(configure: { c in c.apps = [.devDashboard(scopes: ["read_orders"])] }) { h in
            let e = await shopifyError { try await h.client(.clientCredentials).checkScopes() }
            #expect(e?.scope == "read_customers")
            #expect(e?.message.contains("Dev Dashboard") == true)
        }
    }

    @Test func configurationErrorsComeBeforeAnyRequest() async throws {
        try await withSimulator { h in
            #expect(throws: ShopifyError.self) { try ShopEndpoint(store: "bad_store", apiBase: h.sim.baseURL) }
            #expect(throws: ShopifyError.self) { try ShopEndpoint(store: "sim-shop", apiVersion: "2026-1", apiBase: h.sim.baseURL) }
            #expect(throws: ShopifyError.self) {
                try ShopEndpoint(store: "sim-shop", apiBase: h.sim.baseURL.replacingOccurrences(of: "127.0.0.1", with: "sim.example.com"))
            }
            #expect(throws: ShopifyError.self) {
                try ShopifyCredentials.token(.environment("SHOPBULK_UNSET_\(UUID().uuidString.prefix(8))"))
            }
            #expect(throws: ShopifyError.self) {
                try ShopifyCredentials.clientCredentials(clientID: clientID, secret: .file("/nonexistent/shopbulk/secret"))
            }
            // A result URL must not leave TLS for a non-loopback host either.
            let client = try h.client()
            let e = await shopifyError { _ = try await client.downloadAll("http://storage.example.com/x.jsonl?sig=1") }
            #expect(e?.code == .insecureBaseURL)
            #expect(h.sim.recordedRequests.isEmpty)
        }
    }

    @Test func deprecationHeaderIsLogged() async throws {
        try await withSimulator { h in
            let client = try h.client()
            _ = try await client.graphQL(query: "{ currentBulkOperation { id status } }")
            _ = try await client.graphQL(query: "{ currentBulkOperation { id status } }")
            #expect(h.logs.entries.filter { $0.level == .warning && $0.message.contains("deprecated API fields") }.count == 1)
            #expect(h.logs.entries.contains { $0.metadata["reason"] != nil })
        }
    }
}

/// The token went only to the shop listener; the storage listener saw no credential at all.
func assertCredentialsWentOnlyToTheShop(_ h: Harness, sourceLocation: SourceLocation = #_sourceLocation) {
    let requests = h.sim.recordedRequests
    let files = requests.filter { $0.listener == "files" }
    #expect(!files.isEmpty, sourceLocation: sourceLocation)
    for r in files {
        let names = r.headers.compactMap { $0.first?.lowercased() }
        #expect(!names.contains("x-shopify-access-token"), sourceLocation: sourceLocation)
        #expect(!names.contains("authorization") && !names.contains("cookie"), sourceLocation: sourceLocation)
        #expect(!r.query.contains("shpat_") && !r.query.contains("shpss_"), sourceLocation: sourceLocation)
        #expect(r.port == h.sim.filesPort, sourceLocation: sourceLocation)
    }
    for r in requests where r.listener == "api" && r.path.hasSuffix("graphql.json") {
        #expect(r.header("X-Shopify-Access-Token") == "[REDACTED]", sourceLocation: sourceLocation)
        #expect(r.port == h.sim.port, sourceLocation: sourceLocation)
    }
}
