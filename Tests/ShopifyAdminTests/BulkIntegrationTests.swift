import Foundation
import ShopifySimulator
import Testing

@testable import ShopifyAdmin

final class StatusLog: @unchecked Sendable {
    private let lock = NSLock()
    private var _statuses: [BulkOperation.Status] = []
    var statuses: [BulkOperation.Status] { lock.lock(); defer { lock.unlock() }; return _statuses }
    func add(_ op: BulkOperation) { lock.lock(); _statuses.append(op.status); lock.unlock() }
}

@Suite struct BulkIntegrationTests {
    @Test(arguments: ["2026-01", "2025-10", "2025-07", "2025-04", "2025-01", "2024-10"])
    func submitPollAndDownloadOnEveryVersion(_ version: String) async throws {
        try await withSimulator { h in
            let client = try h.client(version: version)
            let op = try await client.submitBulkQuery(query: ordersQuery, queryName: "orders.graphql")
            let done = try await client.waitForCompletion(id: op.id)
            let (sink, _) = try await client.downloadAll(try #require(done.url))
            #expect(sink.bytes == fileBytes(h.sim.operation(done.id)?.resultFile))
            let bodies = h.sim.recordedRequests.compactMap(\.body)
            let submit = try #require(bodies.first { $0.contains("bulkOperationRunQuery") })
            let v = try APIVersion(version)
            #expect(submit.contains("groupObjects") == v.hasGroupObjects)
            #expect(submit.contains("message code") == v.hasUserErrorCode)
            let polls = bodies.filter { $0.contains("ShopbulkBulkOperation") }
            #expect(!polls.isEmpty)
            #expect(polls.allSatisfy { $0.contains(v.hasBulkOperationQueries ? "bulkOperation(id: $id)" : "node(id: $id)") })
            // Before 2025-07 every result is grouped.
            #expect(h.sim.operation(done.id)?.groupObjects == !v.hasGroupObjects)
        }
    }

    @Test func reportsCreatedRunningAndCountsWhileRunning() async throws {
        try await withSimulator(configure: { c in
            c.speed = .duration(3)
            // Long enough that the first poll sees CREATED even on a loaded two-core CI machine.
            c.startDelay = 1.5
        }) { h in
            let client = try h.client {
                $0.polling = BulkPollingPolicy(initialInterval: .milliseconds(100), maximumInterval: .milliseconds(250))
            }
            let log = StatusLog()
            let op = try await client.submitBulkQuery(query: ordersQuery, queryName: "q")
            let done = try await client.waitForCompletion(id: op.id) { log.add($0) }
            #expect(log.statuses.first == .created)
            #expect(log.statuses.contains(.running))
            #expect(log.statuses.last == .completed)
            #expect(done.objectCount > done.rootObjectCount && done.rootObjectCount == 40)
        }
    }

    @Test func completedWithoutRowsHasNoURL() async throws {
        try await withSimulator { h in
            let client = try h.client()
            let op = try await client.submitBulkQuery(
                query: #"{ orders(query: "created_at:<'1990-01-01'") { edges { node { id } } } }"#, queryName: "empty")
            let done = try await client.waitForCompletion(id: op.id)
            #expect(done.status == .completed && done.url == nil && done.objectCount == 0)
        }
    }

    @Test func invalidQueryFailsWithShopifysMessageAndTheFileName() async throws {
        try await withSimulator { h in
            let client = try h.client()
            let e = await shopifyError {
                _ = try await client.submitBulkQuery(query: "{ shop { name } }", queryName: "bad-query.graphql")
            }
            #expect(e?.code == .userError)
            #expect(e?.shopifyCode == "INVALID")
            #expect(e?.queryName == "bad-query.graphql")
            #expect(e?.message.contains("bad-query.graphql") == true)
            #expect(e?.message.contains("at least one connection") == true, "\(String(describing: e))")
        }
    }

    @Test(arguments: [("2025-10", "OPERATION_IN_PROGRESS", 1), ("2024-10", "OPERATION_IN_PROGRESS", 1), ("2026-01", "LIMIT_REACHED", 5)])
    func waitsForASlotWithoutCancellingForeignOperations(_ version: String, _ code: String, _ slots: Int) async throws {
        try await withSimulator(configure: { c in
            // Seconds, not less: on a loaded CI machine the first submit may come a while after start.
            c.faults = SimulatorFaults(foreignOperations: [ForeignOperation(seconds: 4, slots: slots)])
        }) { h in
            let client = try h.client(version: version)
            let reasons = StatusLogStrings()
            let op = try await client.submitBulkQuery(query: ordersQuery, queryName: "orders.graphql") { reason, _ in
                reasons.add(reason.effectiveCode?.rawValue ?? "?")
            }
            #expect(reasons.values.first == code)
            _ = try await client.waitForCompletion(id: op.id)
            let foreign = h.sim.operations.filter(\.foreign)
            #expect(foreign.count >= slots)
            #expect(foreign.allSatisfy { $0.status == "COMPLETED" })
            #expect(!h.sim.recordedRequests.contains { $0.body?.contains("bulkOperationCancel") == true })
        }
    }

    @Test func givesUpWaitingForASlotAfterItsBudget() async throws {
        try await withSimulator(configure: { c in
            c.faults = SimulatorFaults(foreignOperations: [ForeignOperation(seconds: 30, slots: 1)])
        }) { h in
            let client = try h.client(version: "2025-10") { c in
                c.slotWait = BulkSlotWaitPolicy(
                    initialWait: .milliseconds(50), maximumWait: .milliseconds(100), maxTotalWait: .milliseconds(400))
            }
            let e = await shopifyError { _ = try await client.submitBulkQuery(query: ordersQuery, queryName: "q") }
            #expect(e?.code == .noBulkSlot)
            #expect(e?.isRetryable == true)
            #expect(h.sim.operations.filter(\.foreign).allSatisfy { $0.status == "RUNNING" })
        }
    }

    @Test(arguments: [OperationFault.Kind.internalServerError, .timeout])
    func transientFailuresOfferPartialData(_ kind: OperationFault.Kind) async throws {
        try await withSimulator(configure: { c in
            c.faults = SimulatorFaults(operations: [OperationFault(operation: 1, kind: kind, afterObjects: 15)])
        }) { h in
            let client = try h.client()
            let op = try await client.submitBulkQuery(query: ordersQuery, queryName: "q")
            let e = await shopifyError { _ = try await client.waitForCompletion(id: op.id) }
            #expect(e?.code == .operationFailed)
            #expect(e?.shopifyCode == kind.rawValue)
            #expect(e?.isRetryable == true)
            let partial = try #require(e?.partialDataURL)
            #expect(e.map { !"\($0)".contains("signature") } == true)
            let (sink, _) = try await client.downloadAll(partial)
            #expect(!sink.bytes.isEmpty)
            #expect(sink.bytes == fileBytes(h.sim.operation(op.id)?.resultFile))
        }
    }

    @Test func accessDeniedFailsFast() async throws {
        try await withSimulator(configure: { c in c.apps = [.legacy(scopes: ["read_customers"])] }) { h in
            let client = try h.client()
            let op = try await client.submitBulkQuery(query: ordersQuery, queryName: "q")
            let e = await shopifyError { _ = try await client.waitForCompletion(id: op.id) }
            #expect(e?.code == .accessDenied)
            #expect(e?.isRetryable == false)
            #expect(e?.message.contains("read_orders") == true)
        }
    }

    @Test func canceledByShopifyIsReported() async throws {
        try await withSimulator(configure: { c in
            c.faults = SimulatorFaults(operations: [OperationFault(operation: 1, kind: .canceled, afterObjects: 10)])
        }) { h in
            let client = try h.client()
            let op = try await client.submitBulkQuery(query: ordersQuery, queryName: "q")
            let e = await shopifyError { _ = try await client.waitForCompletion(id: op.id) }
            #expect(e?.code == .operationCanceled)
            #expect(e?.isRetryable == true)
            #expect(e?.operation?.status == .canceled)
        }
    }

    @Test func cancelOwnOperation() async throws {
        try await withSimulator(configure: { c in c.speed = .duration(10) }) { h in
            let client = try h.client()
            let op = try await client.submitBulkQuery(query: ordersQuery, queryName: "q")
            let canceling = try await client.cancel(id: op.id)
            #expect(canceling?.status == .canceling)
            let log = StatusLog()
            let e = await shopifyError { _ = try await client.waitForCompletion(id: op.id) { log.add($0) } }
            #expect(e?.code == .operationCanceled)
            // Cancelling a finished operation is refused with Shopify's message.
            let again = await shopifyError { _ = try await client.cancel(id: op.id) }
            #expect(again?.code == .userError)
        }
    }

    @Test func expiredResultsAreDetected() async throws {
        try await withSimulator { h in
            let client = try h.client()
            let op = try await client.submitBulkQuery(query: ordersQuery, queryName: "q")
            let done = try await client.waitForCompletion(id: op.id)
            h.sim.advanceClock(by: 8 * 86400)
            let e = await shopifyError { _ = try await client.waitForCompletion(id: op.id) }
            #expect(e?.code == .expired)
            #expect(e?.operation?.status == .expired)
            let d = await shopifyError { _ = try await client.downloadAll(try #require(done.url)) }
            #expect(d?.code == .expired)
            #expect(d?.status == 403)
        }
    }

    @Test func unknownOperationIsNotFound() async throws {
        try await withSimulator { h in
            for version in ["2026-01", "2025-10"] {
                let client = try h.client(version: version)
                #expect(try await client.bulkOperation(id: "gid://shopify/BulkOperation/999999") == nil)
                let e = await shopifyError { _ = try await client.waitForCompletion(id: "gid://shopify/BulkOperation/999999") }
                #expect(e?.code == .operationNotFound)
            }
        }
    }

    @Test func listsOperations() async throws {
        try await withSimulator { h in
            let client = try h.client()
            let a = try await client.submitBulkQuery(query: ordersQuery, queryName: "a")
            _ = try await client.waitForCompletion(id: a.id)
            let b = try await client.submitBulkQuery(query: ordersQuery, queryName: "b")
            _ = try await client.waitForCompletion(id: b.id)
            let all = try await client.listOperations()
            #expect(all.map(\.id) == [b.id, a.id])
            #expect(try await client.listOperations(status: .completed).count == 2)
            #expect(try await client.listOperations(status: .running).isEmpty)
            #expect(try await client.listOperations(limit: 1).count == 1)
            let old = try h.client(version: "2025-10")
            #expect(try await old.listOperations().map(\.id) == [b.id])
            #expect(try await old.listOperations(status: .failed).isEmpty)
        }
    }
}

final class StatusLogStrings: @unchecked Sendable {
    private let lock = NSLock()
    private var _values: [String] = []
    var values: [String] { lock.lock(); defer { lock.unlock() }; return _values }
    func add(_ v: String) { lock.lock(); _values.append(v); lock.unlock() }
}
