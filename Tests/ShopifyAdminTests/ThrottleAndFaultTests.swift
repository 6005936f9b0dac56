import Foundation
import ShopifySimulator
import Testing

@testable import ShopifyAdmin

/// A query of known cost in the simulator: 2 + 5 × 1 = 7 points.
let costSevenQuery = "{ customers(first: 5) { edges { node { id } } } }"

@Suite struct ThrottleIntegrationTests {
    @Test func clientWaitsAndNeverExceedsTheBucket() async throws {
        try await withSimulator(configure: { c in c.throttle = ThrottleConfig(maximumAvailable: 30, restoreRate: 50) }) { h in
            let client = try h.client()
            let started = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<20 {
                    group.addTask { _ = try await client.graphQL(query: costSevenQuery) }
                }
                try await group.waitForAll()
            }
            let elapsed = (ContinuousClock.now - started).seconds
            let stats = await client.statistics
            #expect(stats.throttledResponses == 0)
            #expect(stats.requests == 20)
            #expect(stats.localThrottleWait > 0)
            // 140 points through a 30-point bucket refilling at 50/s: at least (140 − 30) / 50 = 2.2 s.
            #expect(elapsed >= 2.0)
            #expect(!h.logs.contains(.warning, "throttled by Shopify"))
        }
    }

    @Test func throttledAnswersAreRetriedAfterTheComputedWait() async throws {
        try await withSimulator(configure: { c in c.throttle = ThrottleConfig(maximumAvailable: 30, restoreRate: 50) }) { h in
            // Without the local bucket (as when another process of the same app spends points) Shopify throttles.
            let client = try h.client { c in c.localThrottling = false }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<12 {
                    group.addTask {
                        let r = try await client.graphQL(query: costSevenQuery)
                        #expect(r.errors.isEmpty && r.data?["customers"] != nil)
                    }
                }
                try await group.waitForAll()
            }
            let stats = await client.statistics
            #expect(stats.throttledResponses > 0)
            #expect(h.logs.contains(.warning, "throttled by Shopify"))
        }
    }

    @Test func twoProcessesOfTheSameAppShareTheBucket() async throws {
        try await withSimulator(configure: { c in c.throttle = ThrottleConfig(maximumAvailable: 30, restoreRate: 50) }) { h in
            let a = try h.client()
            let b = try h.client()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<16 {
                    let client = i.isMultiple(of: 2) ? a : b
                    group.addTask { _ = try await client.graphQL(query: costSevenQuery) }
                }
                try await group.waitForAll()
            }
            // Each learns from the other's spending through throttleStatus; every call got through.
            #expect(await a.statistics.requests - a.statistics.retries == 8)
            #expect(await b.statistics.requests - b.statistics.retries == 8)
        }
    }

    @Test func throttledBeyondTheBudgetFails() async throws {
        try await withSimulator(configure: { c in c.throttle = ThrottleConfig(maximumAvailable: 10, restoreRate: 1) }) { h in
            let client = try h.client { c in
                c.localThrottling = false
                c.retry.maxTotalTime = .seconds(1)  // the 4 s refill does not fit
            }
            _ = try await client.graphQL(query: costSevenQuery)
            let e = await shopifyError { _ = try await client.graphQL(query: costSevenQuery) }
            #expect(e?.code == .throttled)
        }
    }
}

@Suite struct HTTPFaultTests {
    @Test(arguments: [429, 503])
    func retryAfterIsHonoured(_ status: Int) async throws {
        try await withSimulator(configure: { c in
            c.faults = SimulatorFaults(http: [HTTPFault(status: status, count: 2, retryAfter: 1)])
        }) { h in
            let client = try h.client()
            let started = ContinuousClock.now
            let report = try await client.checkScopes()
            #expect(report.has("read_orders"))
            #expect((ContinuousClock.now - started).seconds >= 1.9)
            #expect(h.sim.recordedRequests.filter { $0.status == status }.count == 2)
            #expect(h.logs.entries.filter { $0.metadata["retry_after"] == "1.0" }.count == 2)
        }
    }

    @Test(arguments: [500, 502])
    func serverErrorsAreRetriedWithBackoff(_ status: Int) async throws {
        try await withSimulator(configure: { c in
            c.faults = SimulatorFaults(http: [HTTPFault(status: status, count: 3)])
        }) { h in
            let client = try h.client()
            let op = try await client.submitBulkQuery(query: ordersQuery, queryName: "q")
            _ = try await client.waitForCompletion(id: op.id)
            #expect(h.sim.recordedRequests.filter { $0.status == status }.count == 3)
            #expect(h.sim.operations.count == 1)
        }
    }

    @Test("a submission whose answer is lost after Shopify created the operation is not submitted again")
    func lostSubmissionAnswerIsFoundNotRepeated() async throws {
        try await withSimulator(configure: { c in
            c.faults = SimulatorFaults(http: [HTTPFault(status: 502, count: 1, afterProcessing: true, matching: "bulkOperationRunQuery")])
        }) { h in
            let client = try h.client()
            let op = try await client.submitBulkQuery(query: ordersQuery, queryName: "q")
            // The fault hit the mutation, after it ran: the operation exists and the client saw a 502.
            let submits = h.sim.recordedRequests.filter { $0.body?.contains("bulkOperationRunQuery") == true }
            #expect(submits.map(\.status) == [502])
            #expect(h.sim.operations.count == 1)
            #expect(op.id == h.sim.operations.first?.gid)
            #expect(h.logs.contains(.notice, "the submission's answer was lost"))
            let done = try await client.waitForCompletion(id: op.id)
            #expect(done.status == .completed)
        }
    }

    @Test("an earlier failed operation with the same query is not taken for the one a lost answer created")
    func earlierFailedOperationIsNotTaken() async throws {
        try await withSimulator(configure: { c in
            c.faults = SimulatorFaults(operations: [OperationFault(operation: 1, kind: .internalServerError, afterObjects: 1)])
        }) { h in
            let client = try h.client()
            let first = try await client.submitBulkQuery(query: ordersQuery, queryName: "q")
            await #expect(throws: ShopifyError.self) { _ = try await client.waitForCompletion(id: first.id) }
            #expect(h.sim.operations.first?.status == "FAILED")
            // The next submission of the same text is refused before it runs: nothing new was created.
            h.sim.addFaults(SimulatorFaults(http: [HTTPFault(status: 503, count: 1, matching: "bulkOperationRunQuery")]))
            let second = try await client.submitBulkQuery(query: ordersQuery, queryName: "q")
            #expect(second.id != first.id)
            #expect(h.sim.operations.count == 2)
            #expect(!h.logs.contains(.notice, "the submission's answer was lost"))
        }
    }

    @Test("a submission refused with a 5xx before it ran is submitted again, once")
    func refusedSubmissionIsRepeatedOnce() async throws {
        try await withSimulator(configure: { c in
            c.faults = SimulatorFaults(http: [HTTPFault(status: 503, count: 1, matching: "bulkOperationRunQuery")])
        }) { h in
            let client = try h.client()
            let op = try await client.submitBulkQuery(query: ordersQuery, queryName: "q")
            let submits = h.sim.recordedRequests.filter { $0.body?.contains("bulkOperationRunQuery") == true }
            #expect(submits.map(\.status) == [503, 200])
            #expect(h.sim.operations.count == 1)
            #expect(op.id == h.sim.operations.first?.gid)
            #expect(h.logs.contains(.warning, "Shopify has no such operation; submitting again"))
        }
    }

    @Test func retriesAreBounded() async throws {
        try await withSimulator(configure: { c in
            c.faults = SimulatorFaults(http: [HTTPFault(status: 500, count: 100)])
        }) { h in
            let client = try h.client()
            let e = await shopifyError { try await client.checkScopes() }
            #expect(e?.code == .retriesExhausted)
            #expect(e?.status == 500)
            #expect(h.sim.recordedRequests.count == 4)
        }
    }

    @Test func faultsDuringPollingDoNotStopTheOperation() async throws {
        try await withSimulator(configure: { c in c.speed = .duration(1) }) { h in
            let client = try h.client()
            let op = try await client.submitBulkQuery(query: ordersQuery, queryName: "q")
            h.sim.addFaults(SimulatorFaults(http: [HTTPFault(status: 503, count: 2), HTTPFault(status: 500, count: 2)]))
            let done = try await client.waitForCompletion(id: op.id)
            #expect(done.status == .completed)
        }
    }

    @Test func connectionErrorsAreRetriedThenReported() async throws {
        // Nothing listens on this port.
        let endpoint = try ShopEndpoint(store: "halo", apiBase: "http://127.0.0.1:9")
        let logs = LogCapture()
        let client = ShopifyAdminClient(
            endpoint: endpoint, credentials: .accessToken(Secret(legacyToken)), configuration: fastConfiguration(), logger: logs.logger())
        let e = await shopifyError { try await client.checkScopes() }
        #expect(e?.code == .retriesExhausted)
        #expect(await client.statistics.requests == 4)
        #expect(!logs.allText.contains(legacyToken))
    }
}

@Suite struct DownloadIntegrationTests {
    @Test func downloadCutThreeTimesDeliversEveryByteOnce() async throws {
        try await withSimulator(SimulatorConfig(customers: 50, orders: 400)) { h in
            let client = try h.client(.clientCredentials)
            let op = try await client.submitBulkQuery(query: ordersQuery, queryName: "orders.graphql")
            let done = try await client.waitForCompletion(id: op.id)
            let expected = fileBytes(h.sim.operation(done.id)?.resultFile)
            #expect(expected.count > 60_000)
            h.sim.addFaults(SimulatorFaults(downloadDrops: [DownloadDrop(afterBytes: 20_000, count: 3)]))
            let (sink, summary) = try await client.downloadAll(try #require(done.url), fileSize: done.fileSize)
            #expect(sink.bytes.count == expected.count)
            #expect(sink.bytes == expected)
            #expect(summary.attempts == 4)
            #expect(summary.resumedAt == [20_000, 40_000, 60_000])
            #expect(summary.restarts == 0)
            // Progress grows monotonically to the file size.
            let delivered = sink.progress.map(\.bytesDelivered)
            #expect(delivered == delivered.sorted())
            #expect(delivered.last == Int64(expected.count))
            let files = h.sim.recordedRequests.filter { $0.listener == "files" }
            #expect(files.count == 4)
            #expect(files.dropFirst().map { $0.header("Range") } == ["bytes=20000-", "bytes=40000-", "bytes=60000-"])
            assertCredentialsWentOnlyToTheShop(h)
            #expect(h.logs.contains(.warning, "download interrupted, resuming"))
            #expect(h.assertNoSecretsInLogs())
        }
    }

    @Test func resumesFromAnOffset() async throws {
        try await withSimulator { h in
            let client = try h.client()
            let op = try await client.submitBulkQuery(query: ordersQuery, queryName: "q")
            let done = try await client.waitForCompletion(id: op.id)
            let expected = fileBytes(h.sim.operation(done.id)?.resultFile)
            let sink = ByteSink()
            try await client.download(url: try #require(done.url), from: 1000) { sink.append($0) }
            #expect(sink.bytes == Array(expected[1000...]))
        }
    }

    @Test func consumerErrorsAreRethrownUnchanged() async throws {
        struct Stop: Error {}
        try await withSimulator { h in
            let client = try h.client()
            let op = try await client.submitBulkQuery(query: ordersQuery, queryName: "q")
            let done = try await client.waitForCompletion(id: op.id)
            await #expect(throws: Stop.self) {
                try await client.download(url: try #require(done.url)) { _ in throw Stop() }
            }
        }
    }
}
