import BulkQueries
import Foundation
import Importer
import Postgres
import ShopifySimulator
import TestSupport
import Testing

@Suite("Import engine end to end: simulator and real database", .enabled(if: TestEnvironment.databaseTestsEnabled))
struct EngineTests {
    @Test("a full import's tables equal the simulator's data: counts, money sums, sampled rows field by field")
    func fullImportMatches() async throws {
        let h = try await EngineHarness.make()
        do {
            let report = try await h.full()
            let shop = h.sim.shop
            #expect(try h.count("SELECT count(*) FROM customers") == shop.liveCustomerCount)
            #expect(try h.count("SELECT count(*) FROM orders") == shop.liveOrderCount)
            #expect(try h.count("SELECT count(*) FROM order_lines") == shop.liveLineItemCount)
            #expect(report.rows["orders"] == shop.liveOrderCount)
            // Money: exact sums per currency.
            var expected: [String: Decimal] = [:]
            for order in shop.orders { expected[order.currencyCode, default: 0] += order.totalPrice.decimal }
            for row in try h.connection.query("SELECT currency_code, sum(total_price)::text AS s FROM orders GROUP BY currency_code") {
                let code = row["currency_code"].string ?? ""
                #expect(Decimal(string: row["s"].string ?? "") == expected[code], "sum of \(code)")
            }
            // Sampled rows, field by field.
            for order in shop.orders.prefix(25) {
                let row = try #require(
                    try h.connection.query(
                        """
                        SELECT name, email, customer_id, total_price::text AS total, currency_code, note, tags,
                               to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS created,
                               financial_status, fulfillment_status, test
                        FROM orders WHERE id = $1
                        """, [order.id]
                    ).first)
                #expect(row["name"].string == order.name)
                #expect(row["email"].string == order.email)
                #expect(row["customer_id"].int64 == order.customerId)
                #expect(Decimal(string: row["total"].string ?? "") == order.totalPrice.decimal)
                #expect(row["currency_code"].string == order.currencyCode)
                #expect(row["note"].string == order.note)
                #expect(row["created"].string == order.createdAt)
                #expect(row["financial_status"].string == order.displayFinancialStatus)
                #expect(row["fulfillment_status"].string == order.displayFulfillmentStatus)
                #expect(row["test"].bool == order.test)
                let lines = try h.connection.query(
                    "SELECT id, sku, quantity, original_unit_price::text AS price, title FROM order_lines WHERE order_id = $1 ORDER BY id",
                    [order.id])
                #expect(lines.count == order.lineItems.count)
                for (line, item) in zip(lines.rows, order.lineItems.sorted { $0.id < $1.id }) {
                    #expect(line["id"].int64 == item.id)
                    #expect(line["sku"].string == item.sku)
                    #expect(line["quantity"].int == item.quantity)
                    #expect(line["title"].string == item.title)
                    #expect(Decimal(string: line["price"].string ?? "") == item.originalUnitPrice.decimal)
                }
            }
            for customer in shop.customers.prefix(15) {
                let row = try #require(
                    try h.connection.query("SELECT first_name, last_name, email, note, tags FROM customers WHERE id = $1", [customer.id])
                        .first)
                #expect(row["first_name"].string == customer.firstName)
                #expect(row["last_name"].string == customer.lastName)
                #expect(row["email"].string == customer.email)
                #expect(row["note"].string == customer.note)
            }
            // Every window ran once; the high-water marks are set.
            #expect(h.sim.operations.count == report.operationsSubmitted)
            #expect(try h.count("SELECT count(*) FROM sync_state WHERE full_import_done_at IS NOT NULL") == 2)
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }

    @Test("a delta after touching, adding and deleting picks up exactly those changes")
    func deltaPicksUpChanges() async throws {
        let h = try await EngineHarness.make()
        do {
            _ = try await h.full()
            try await Task.sleep(for: .milliseconds(1100))
            let touched = h.sim.touch(orders: 4, customers: 3)
            let added = h.sim.add(orders: 2, customers: 1)
            try await Task.sleep(for: .milliseconds(1100))  // the delta window ends at the current whole second
            let before = h.sim.operations.count
            let report = try await h.engine.run(shop: "sim", mode: .delta, options: EngineHarness.fastOptions)
            let deltaOps = h.sim.operations.dropFirst(before)
            #expect(deltaOps.count == 2)
            // What Shopify returned for the delta: exactly the touched and added records (the overlap
            // reaches back 5 minutes, into the full import's snapshot, which had no other changes).
            let roots = deltaOps.reduce(0) { $0 + $1.rootObjectCount }
            #expect(roots == touched.orderIds.count + touched.customerIds.count + added.orderIds.count + added.customerIds.count)
            #expect(report.rows["orders"] == 6)
            #expect(report.rows["customers"] == 4)
            for id in touched.orderIds + added.orderIds {
                let expected = try #require(h.sim.shop.order(id: id))
                let updated = try h.text(
                    "SELECT to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM orders WHERE id = \(id)")
                #expect(updated == expected.updatedAt)
            }
            #expect(try h.count("SELECT count(*) FROM orders") == h.sim.shop.liveOrderCount)
            #expect(try h.count("SELECT count(*) FROM order_lines") == h.sim.shop.liveLineItemCount)
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }

    @Test("a TIMEOUT splits the window in two and the import still completes")
    func timeoutSplitsWindow() async throws {
        let h = try await EngineHarness.make { c in
            c.faults = SimulatorFaults(operations: [OperationFault(operation: 1, kind: .timeout, afterObjects: 5)])
        }
        do {
            var options = EngineHarness.fastOptions
            options.windowDays = 100_000
            options.resources = ["orders"]
            let report = try await h.full(options)
            #expect(report.windowsSplit == 1)
            #expect(try h.count("SELECT count(*) FROM sync_runs WHERE status = 'superseded' AND error_code = 'TIMEOUT'") == 1)
            #expect(try h.count("SELECT count(*) FROM orders") == h.sim.shop.liveOrderCount)
            #expect(try h.count("SELECT count(*) FROM order_lines") == h.sim.shop.liveLineItemCount)
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }

    @Test("INTERNAL_SERVER_ERROR is retried with a new operation")
    func internalErrorRetried() async throws {
        let h = try await EngineHarness.make { c in
            c.faults = SimulatorFaults(operations: [OperationFault(operation: 1, kind: .internalServerError, afterObjects: 3)])
        }
        do {
            var options = EngineHarness.fastOptions
            options.resources = ["customers"]
            let report = try await h.full(options)
            #expect(report.retries == 1)
            #expect(try h.count("SELECT count(*) FROM customers") == h.sim.shop.liveCustomerCount)
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }

    @Test("a foreign operation in the slots is waited for, never cancelled")
    func foreignOperationWaited() async throws {
        let h = try await EngineHarness.make { c in
            c.faults = SimulatorFaults(foreignOperations: [ForeignOperation(seconds: 5, slots: 5)])
        }
        do {
            let started = Date()
            var options = EngineHarness.fastOptions
            options.resources = ["customers"]
            _ = try await h.full(options)
            #expect(Date().timeIntervalSince(started) >= 1.5)
            #expect(!h.sim.recordedRequests.contains { ($0.body ?? "").contains("bulkOperationCancel") })
            #expect(try h.count("SELECT count(*) FROM customers") == h.sim.shop.liveCustomerCount)
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }

    @Test("with line items off, the lineItems connection is not submitted and order_lines is untouched")
    func lineItemsOff() async throws {
        let h = try await EngineHarness.make(lineItems: false)
        do {
            try h.connection.execute("INSERT INTO orders (shop_id, id, gid) VALUES (\(h.shop.id), 1, 'gid://shopify/Order/1')")
            try h.connection.execute(
                "INSERT INTO order_lines (shop_id, id, gid, order_id, sku) VALUES (\(h.shop.id), 77, 'gid://shopify/LineItem/77', 1, 'KEEP')"
            )
            var options = EngineHarness.fastOptions
            options.resources = ["orders"]
            _ = try await h.full(options)
            #expect(
                !h.submittedQueries.isEmpty && h.submittedQueries.allSatisfy { !$0.contains("lineItems {") && !$0.contains("lineItems{") })
            #expect(try h.count("SELECT count(*) FROM order_lines") == 1)
            #expect(try h.text("SELECT sku FROM order_lines") == "KEEP")
            #expect(try h.count("SELECT count(*) FROM orders") == h.sim.shop.liveOrderCount + 1)
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }

    @Test("a saved query runs into a JSONL file and into a table")
    func savedQuery() async throws {
        let h = try await EngineHarness.make()
        do {
            let dir = NSTemporaryDirectory() + "sbsaved-\(UInt32.random(in: 0...UInt32.max))"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let queryPath = dir + "/vip.graphql"
            try """
            # Customers with their addresses: any bulk-valid query works.
            { customers { edges { node { id email tags addressesV2 { edges { node { id city } } } } } } }
            """.write(toFile: queryPath, atomically: true, encoding: .utf8)
            let query = try QueryFile.load(path: queryPath)
            let file = try await h.engine.runSaved(query, shop: "sim", into: .file(dir + "/out.jsonl"))
            let text = try String(contentsOfFile: dir + "/out.jsonl", encoding: .utf8)
            #expect(file.lines == text.split(separator: "\n").count)
            #expect(text.contains("gid://shopify/Customer/"))
            let table = try await h.engine.runSaved(query, shop: "sim", into: .table("vip_customers"))
            #expect(table.rows == file.lines)
            #expect(try h.count("SELECT count(*) FROM vip_customers WHERE type = 'Customer'") == h.sim.shop.liveCustomerCount)
            #expect(
                try h.count("SELECT count(*) FROM vip_customers WHERE parent_gid IS NOT NULL") == file.lines - h.sim.shop.liveCustomerCount)
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }

    @Test("two imports of one shop never run at once")
    func importLock() async throws {
        let h = try await EngineHarness.make { c in c.speed = .duration(4) }
        do {
            let first = Task {
                var options = EngineHarness.fastOptions
                options.resources = ["customers"]
                return try await h.full(options)
            }
            // Wait until the first import holds the lock: it has planned and started a window.
            #expect(await h.engine.progress.waitUntil { !$0.isEmpty })
            #expect(try h.count("SELECT count(*) FROM sync_runs") > 0, "the first import never started")
            let error = await #expect(throws: ImportError.self) {
                var options = EngineHarness.fastOptions
                options.resources = ["customers"]
                _ = try await h.full(options)
            }
            #expect(error?.code == "LOCKED")
            _ = try await first.value
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }
}

@Suite("Deletion reconcile", .enabled(if: TestEnvironment.databaseTestsEnabled))
struct ReconcileTests {
    @Test("--reconcile marks exactly the records Shopify deleted, and unmarks none of the others")
    func reconcileMarksDeleted() async throws {
        let h = try await EngineHarness.make()
        do {
            _ = try await h.full()
            let deleted = h.sim.delete(orders: 3, customers: 2)
            let report = try await h.engine.run(shop: "sim", mode: .reconcile, options: EngineHarness.fastOptions)
            #expect(report.markedDeleted["orders"] == 3)
            #expect(report.markedDeleted["customers"] == 2)
            let marked = try h.connection.query("SELECT id FROM orders WHERE deleted_at IS NOT NULL ORDER BY id").map {
                $0["id"].int64 ?? 0
            }
            #expect(marked == deleted.orderIds.sorted())
            let markedCustomers = try h.connection.query("SELECT id FROM customers WHERE deleted_at IS NOT NULL ORDER BY id").map {
                $0["id"].int64 ?? 0
            }
            #expect(markedCustomers == deleted.customerIds.sorted())
            // The service-desk views leave them out.
            #expect(try h.count("SELECT count(*) FROM order_history") == h.sim.shop.liveOrderCount)
            // A second reconcile changes nothing.
            let again = try await h.engine.run(shop: "sim", mode: .reconcile, options: EngineHarness.fastOptions)
            #expect(again.markedDeleted["orders"] == 0)
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }
}
