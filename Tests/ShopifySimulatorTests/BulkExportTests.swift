import Foundation
import ShopifySimulator
import Testing

let orderQuery = """
    { orders { edges { node { __typename id name email createdAt updatedAt customer { id } \
    totalPriceSet { shopMoney { amount currencyCode } } tags \
    lineItems { edges { node { __typename id title quantity originalUnitPriceSet { shopMoney { amount } } } } } } } } }
    """

func checkParents(_ lines: [[String: Any]]) -> (parents: Set<String>, children: Int, allKnown: Bool) {
    let parents = Set(lines.filter { $0["__parentId"] == nil }.compactMap { $0["id"] as? String })
    let kids = lines.filter { $0["__parentId"] != nil }
    return (parents, kids.count, kids.allSatisfy { parents.contains($0["__parentId"] as! String) })
}

@Suite("Bulk export (over HTTP)")
struct BulkExportTests {
    @Test func groupedOutputPutsChildrenRightAfterTheirParent() async throws {
        let sim = try await startSim()
        defer { Task { await sim.stop() } }
        let c = Client(sim)
        let (op, lines) = try await c.export(orderQuery, groupObjects: true)
        #expect(op["status"] as? String == "COMPLETED")
        let shop = sim.shop
        #expect(lines.count == shop.liveOrderCount + shop.liveLineItemCount)
        #expect(op["objectCount"] as? String == String(lines.count))
        #expect(op["rootObjectCount"] as? String == String(shop.liveOrderCount))
        let check = checkParents(lines)
        #expect(check.allKnown)
        var current: String?
        for l in lines {
            if let p = l["__parentId"] as? String { #expect(p == current) } else { current = l["id"] as? String }
        }
        // Only the selected fields, in order, with __parentId last.
        let first = try #require(lines.first)
        #expect(Set(first.keys) == ["__typename", "id", "name", "email", "createdAt", "updatedAt", "customer", "totalPriceSet", "tags"])
        let child = try #require(lines.first { $0["__parentId"] != nil })
        #expect(Set(child.keys) == ["__typename", "id", "title", "quantity", "originalUnitPriceSet", "__parentId"])
    }

    @Test func ungroupedOutputReallyInterleaves() async throws {
        let sim = try await startSim { $0.orders = 400 }
        defer { Task { await sim.stop() } }
        let c = Client(sim)
        // 2026-01: groupObjects defaults to false.
        let (_, lines) = try await c.export(orderQuery)
        let check = checkParents(lines)
        #expect(check.allKnown)
        #expect(lines.count == sim.shop.liveOrderCount + sim.shop.liveLineItemCount)
        var seen = Set<String>()
        var childBeforeParent = 0
        for l in lines {
            if let p = l["__parentId"] as? String {
                if !seen.contains(p) { childBeforeParent += 1 }
            } else {
                seen.insert(l["id"] as! String)
            }
        }
        #expect(childBeforeParent > 0, "some children come before their parent")
        // Same set of lines as the grouped export.
        let grouped = try await c.export(orderQuery, groupObjects: true).lines
        #expect(Set(grouped.map { $0["id"] as! String }) == Set(lines.map { $0["id"] as! String }))
    }

    @Test func groupObjectsDefaultsFollowTheVersion() async throws {
        let sim = try await startSim()
        defer { Task { await sim.stop() } }
        let c = Client(sim)
        func grouped(_ version: String) async throws -> Bool {
            let run = try await c.runBulk(orderQuery, version: version)
            let id = try #require(run.id)
            _ = try await c.wait(id)
            return try #require(sim.operation(id)).groupObjects
        }
        #expect(try await grouped("2025-04") == true)
        #expect(try await grouped("2025-10") == true)
        #expect(try await grouped("2026-01") == false)
    }

    @Test func customersWithAddressesAndOrdersTwoLevelsDeep() async throws {
        let sim = try await startSim()
        defer { Task { await sim.stop() } }
        let c = Client(sim)
        let q = """
            { customers { edges { node { __typename id displayName defaultEmailAddress { emailAddress } defaultAddress { city countryCodeV2 } \
            numberOfOrders amountSpent { amount currencyCode } \
            addressesV2 { edges { node { __typename id city } } } \
            orders { edges { node { __typename id name lineItems { nodes { __typename id sku } } } } } } } } }
            """
        let (_, lines) = try await c.export(q, groupObjects: false)
        let shop = sim.shop
        let byType = Dictionary(grouping: lines) { $0["__typename"] as? String ?? "?" }
        #expect(byType["Customer"]?.count == shop.liveCustomerCount)
        #expect(byType["MailingAddress"]?.count == shop.customers.reduce(0) { $0 + $1.addresses.count })
        let customerOrders = shop.customers.flatMap { shop.orders(ofCustomer: $0.index) }
        #expect(byType["Order"]?.count == customerOrders.count)
        #expect(byType["LineItem"]?.count == customerOrders.reduce(0) { $0 + $1.lineItems.count })
        #expect(checkParents(lines).allKnown == false)  // line items name orders, which are children themselves
        let ids = Set(lines.compactMap { $0["id"] as? String })
        #expect(lines.allSatisfy { ($0["__parentId"] as? String).map(ids.contains) ?? true })
        // Expected values, field by field, for a sample customer.
        let sample = try #require(shop.customers.first { !$0.addresses.isEmpty })
        let line = try #require(byType["Customer"]?.first { $0["id"] as? String == sample.gid })
        #expect(line["displayName"] as? String == sample.displayName)
        #expect(line.path("defaultAddress", "city") as? String == sample.defaultAddress?.city)
        #expect(line.path("amountSpent", "amount") as? String == sample.amountSpent.amount)
        #expect(line["numberOfOrders"] as? String == String(shop.orders(ofCustomer: sample.index).count))
        if let e = sample.email { #expect(line.path("defaultEmailAddress", "emailAddress") as? String == e) }
    }

    @Test func aliasesAndTypenameAreHonoured() async throws {
        let sim = try await startSim()
        defer { Task { await sim.stop() } }
        let c = Client(sim)
        let (_, lines) = try await c.export(
            // A node with a nested connection selects id unaliased (Shopify's rule); an alias may come on top.
            "{ orders(sortKey: ID) { nodes { kind: __typename id gid: id total: totalPriceSet { m: shopMoney { a: amount } } items: lineItems { nodes { gid: id } } } } }",
            groupObjects: true)
        let first = try #require(lines.first)
        let o = try #require(sim.shop.orders.first)
        #expect(first["kind"] as? String == "Order")
        #expect(first["gid"] as? String == o.gid)
        #expect(first.path("total", "m", "a") as? String == o.totalPrice.amount)
        #expect(lines[1]["gid"] as? String == o.lineItems[0].gid)
        #expect(lines[1]["__parentId"] as? String == o.gid)
    }

    @Test func filtersAndSortKeys() async throws {
        let sim = try await startSim { $0.orders = 300 }
        defer { Task { await sim.stop() } }
        let c = Client(sim)
        let shop = sim.shop
        let lo = "2024-01-01T00:00:00Z", hi = "2025-01-01T00:00:00Z"
        let loT = ISO8601DateFormatter().date(from: lo)!.timeIntervalSince1970,
            hiT = ISO8601DateFormatter().date(from: hi)!.timeIntervalSince1970
        let expected = shop.orders.filter { Double($0.updatedAtEpoch) >= loT && Double($0.updatedAtEpoch) < hiT }.map(\.gid)
        #expect(!expected.isEmpty)
        let q =
            "{ orders(query: \"updated_at:>='\(lo)' AND updated_at:<'\(hi)'\", sortKey: UPDATED_AT) { edges { node { id updatedAt } } } }"
        let (_, lines) = try await c.export(q, groupObjects: true)
        #expect(Set(lines.map { $0["id"] as! String }) == Set(expected))
        let times = lines.map { $0["updatedAt"] as! String }
        #expect(times == times.sorted())
        // reverse, double quotes, implicit AND, created_at
        let q2 =
            "{ orders(query: \"created_at:>\\\"2023-01-01T00:00:00Z\\\" created_at:<=\\\"2024-06-30T00:00:00Z\\\"\", sortKey: CREATED_AT, reverse: true) { edges { node { id createdAt } } } }"
        let (_, l2) = try await c.export(q2, groupObjects: true)
        let created = l2.map { $0["createdAt"] as! String }
        #expect(created == created.sorted(by: >))
        #expect(created.allSatisfy { $0 > "2023-01-01T00:00:00Z" && $0 <= "2024-06-30T00:00:00Z" })
        #expect(l2.count == shop.orders.filter { $0.createdAt > "2023-01-01T00:00:00Z" && $0.createdAt <= "2024-06-30T00:00:00Z" }.count)
        // ID order
        let (_, l3) = try await c.export("{ customers(sortKey: ID) { edges { node { id } } } }", groupObjects: true)
        #expect(l3.map { $0["id"] as! String } == shop.customers.map(\.gid))
        // Nothing matches: COMPLETED with url null
        let (op, l4) = try await c.export("{ orders(query: \"updated_at:>'2031-01-01T00:00:00Z'\") { edges { node { id } } } }")
        #expect(op["status"] as? String == "COMPLETED")
        #expect(op["url"] is NSNull)
        #expect(op["objectCount"] as? String == "0")
        #expect(l4.isEmpty)
        // invalid sort key
        let bad = try await c.runBulk("{ orders(sortKey: NOPE) { edges { node { id } } } }")
        #expect(bad.userErrors.first?["code"] as? String == "INVALID")
    }

    @Test func statusMovesFromCreatedThroughRunningToCompletedWithGrowingCounts() async throws {
        let sim = try await startSim { c in
            c.speed = .rowsPerSecond(100)  // several seconds RUNNING, even when polls come late
            c.startDelay = 3.0  // seconds: on a loaded CI machine the first poll may come late
            c.orders = 200
        }
        defer { Task { await sim.stop() } }
        let c = Client(sim)
        let run = try await c.runBulk(orderQuery)
        let id = try #require(run.id)
        #expect(run.response.path("data", "bulkOperationRunQuery", "bulkOperation", "status") as? String == "CREATED")
        var statuses: [String] = []
        var counts: [Int] = []
        var sizes: [Int] = []
        for _ in 0..<400 {
            let r = try await c.gql(
                "query($id: ID!) { bulkOperation(id: $id) { status objectCount rootObjectCount fileSize url } }", variables: ["id": id])
            let op = try #require(r.path("data", "bulkOperation") as? [String: Any])
            let s = op["status"] as! String
            if statuses.last != s { statuses.append(s) }
            counts.append(Int(op["objectCount"] as! String)!)
            if let f = op["fileSize"] as? String { sizes.append(Int(f)!) }
            if s == "COMPLETED" { #expect(op["url"] is String); break }
            #expect(op["url"] is NSNull)
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        #expect(statuses == ["CREATED", "RUNNING", "COMPLETED"])
        #expect(counts == counts.sorted())
        #expect(Set(counts).count >= 3, "objectCount grows: \(counts)")
        #expect(sizes == sizes.sorted())
    }

    @Test func fullExportMatchesTheExpectedDataExactly() async throws {
        let sim = try await startSim()
        defer { Task { await sim.stop() } }
        sim.touch(orders: 3, customers: 2)
        sim.add(orders: 2, customers: 1)
        sim.delete(orders: 4, customers: 1)
        let c = Client(sim)
        let q = """
            { orders { edges { node { id email updatedAt note tags customer { id } currentTotalPriceSet { shopMoney { amount currencyCode } } \
            shippingAddress { address1 city } lineItems { edges { node { id sku quantity discountedTotalSet { shopMoney { amount } } } } } } } } }
            """
        let (_, lines) = try await c.export(q)
        let shop = sim.shop
        let orders = Dictionary(uniqueKeysWithValues: lines.filter { $0["__parentId"] == nil }.map { ($0["id"] as! String, $0) })
        #expect(orders.count == shop.liveOrderCount)
        var total = Decimal(0)
        for o in shop.orders {
            let l = try #require(orders[o.gid])
            #expect(l["email"] as? String == o.email)
            #expect(l["note"] as? String == o.note)
            #expect(l["tags"] as? [String] == o.tags)
            #expect(l["updatedAt"] as? String == o.updatedAt)
            #expect(l.path("customer", "id") as? String == o.customerGid)
            #expect(l.path("shippingAddress", "city") as? String == o.shippingAddress?.city)
            #expect(l.path("currentTotalPriceSet", "shopMoney", "amount") as? String == o.currentTotalPrice.amount)
            total += Decimal(string: l.path("currentTotalPriceSet", "shopMoney", "amount") as! String)!
        }
        #expect(total == shop.orders.reduce(Decimal(0)) { $0 + $1.currentTotalPrice.decimal })
        let items = lines.filter { $0["__parentId"] != nil }
        #expect(items.count == shop.liveLineItemCount)
        let sample = try #require(shop.orders.dropFirst(5).first?.lineItems.last)
        let li = try #require(items.first { $0["id"] as? String == sample.gid })
        #expect(li["sku"] as? String == sample.sku)
        #expect(li["quantity"] as? Int == sample.quantity)
        #expect(li.path("discountedTotalSet", "shopMoney", "amount") as? String == sample.discountedTotal.amount)
    }
}
