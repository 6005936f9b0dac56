import Foundation
import ShopifySimulator
import Testing

@Suite("Bulk operation API (over HTTP)")
struct OperationsTests {
    @Test func eachBulkRuleViolationIsAnInvalidUserError() async throws {
        let sim = try await startSim()
        defer { Task { await sim.stop() } }
        let c = Client(sim)
        let cases: [(String, String)] = [
            ("{ shop { name } }", "Bulk queries must contain at least one connection."),
            ("{ node(id: \"gid://shopify/Order/1\") { id } }", "Bulk queries cannot contain a top level `node` or `nodes` field."),
            ("{ nodes(ids: [\"gid://shopify/Order/1\"]) { id } }", "Bulk queries cannot contain a top level `node` or `nodes` field."),
            (
                "{ orders { edges { node { id } } } customers { edges { node { id } } } }",
                "Bulk queries must contain exactly one top-level field, found 2."
            ),
            (
                "{ customers { edges { node { id addressesV2 { edges { node { id } } } a2: addressesV2 { edges { node { id } } } orders { edges { node { id lineItems { edges { node { id } } } } } } o2: orders { edges { node { id } } } } } } }",
                "Bulk queries cannot contain more than 5 connections."
            ),
            (
                "{ customers { edges { node { id orders { edges { node { id customer { id orders { edges { node { id customer { id orders { edges { node { id } } } } } } } } } } } } } } }",
                "Bulk queries cannot contain connections with a nesting depth greater than 2."
            ),
            (
                "{ orders { edges { node { id fulfillments { fulfillmentLineItems { edges { node { id } } } } } } } }",
                "Queries that contain a connection field within a list field are not currently supported."
            ),
            (
                "{ orders { edges { node { name lineItems { edges { node { id } } } } } } }",
                "The parent 'node' field for a nested connection must select the 'id' field without an alias and must be of 'ID' return type. Connection fields without 'id': lineItems."
            ),
            (
                "{ orders { edges { node { key: id lineItems { edges { node { id } } } } } } }",
                "The parent 'node' field for a nested connection must select the 'id' field without an alias and must be of 'ID' return type. Connection fields without 'id': lineItems."
            ),
            ("{ orders { edges { node { id nope } } } }", "Invalid bulk query: Field 'nope' doesn't exist on type 'Order'"),
            ("{ orders { edges { node { id }", "Invalid bulk query: "),
        ]
        for (query, message) in cases {
            let run = try await c.runBulk(query)
            #expect(run.id == nil, "\(query)")
            #expect(run.response.path("data", "bulkOperationRunQuery", "bulkOperation") is NSNull)
            let e = try #require(run.userErrors.first, "\(query)")
            #expect(e["code"] as? String == "INVALID")
            #expect(
                (e["message"] as? String)?.hasPrefix(message) == true || (e["message"] as? String)?.contains(message) == true,
                "\(e["message"] ?? "") should contain \(message)")
            #expect(e["field"] as? [String] == ["query"])
        }
        #expect(sim.operations.isEmpty)
    }

    @Test func oneAtATimeBefore2026() async throws {
        let sim = try await startSim { c in
            c.speed = .duration(60); c.cancelDelay = 1.0
        }
        defer { Task { await sim.stop() } }
        let c = Client(sim, version: "2025-10")
        let first = try await c.runBulk(orderQuery)
        let id = try #require(first.id)
        let second = try await c.runBulk(orderQuery)
        #expect(second.id == nil)
        let e = try #require(second.userErrors.first)
        #expect(e["code"] as? String == "OPERATION_IN_PROGRESS")
        #expect(e["message"] as? String == "A bulk query operation for this app and shop is already in progress: \(id).")
        // The dev-dashboard app has a slot of its own.
        let other = Client(sim, token: sim.issueToken(app: "dev-dashboard-app")!, version: "2025-10")
        #expect(try await other.runBulk(orderQuery).id != nil)
        // currentBulkOperation and node(id:) work on 2025-10.
        let cur = try await c.gql("{ currentBulkOperation { id status type } }")
        #expect(cur.path("data", "currentBulkOperation", "id") as? String == id)
        #expect(cur.path("data", "currentBulkOperation", "type") as? String == "QUERY")
        // CANCELING still blocks; CANCELED frees the slot.
        _ = try await c.gql("mutation($id: ID!) { bulkOperationCancel(id: $id) { userErrors { message } } }", variables: ["id": id])
        #expect(try await c.runBulk(orderQuery).userErrors.first?["code"] as? String == "OPERATION_IN_PROGRESS")
        let op = try await c.wait(id)
        #expect(op["status"] as? String == "CANCELED")
        #expect(try await c.runBulk(orderQuery).id != nil)
    }

    @Test func fiveAtATimeFrom2026() async throws {
        let sim = try await startSim { c in
            c.speed = .duration(60); c.cancelDelay = 0.05
        }
        defer { Task { await sim.stop() } }
        let c = Client(sim)
        var ids: [String] = []
        for _ in 0..<5 { ids.append(try #require(try await c.runBulk(orderQuery).id)) }
        let sixth = try await c.runBulk(orderQuery)
        #expect(sixth.id == nil)
        #expect(sixth.userErrors.first?["code"] as? String == "LIMIT_REACHED")
        // bulkOperations: newest first, status and operation_type filters, reverse.
        let list = try await c.gql(
            "{ bulkOperations(first: 10, query: \"status:RUNNING operation_type:query\") { nodes { id status type } } }")
        let nodes = try #require(list.path("data", "bulkOperations", "nodes") as? [[String: Any]])
        #expect(nodes.compactMap { $0["id"] as? String } == ids.reversed())
        let rev = try await c.gql("{ bulkOperations(first: 2, reverse: true) { edges { cursor node { id } } pageInfo { hasNextPage } } }")
        let edges = try #require(rev.path("data", "bulkOperations", "edges") as? [[String: Any]])
        #expect(edges.compactMap { ($0["node"] as? [String: Any])?["id"] as? String } == Array(ids.prefix(2)))
        #expect(rev.path("data", "bulkOperations", "pageInfo", "hasNextPage") as? Bool == true)
        let none = try await c.gql("{ bulkOperations(first: 10, query: \"status:completed\") { nodes { id } } }")
        #expect((none.path("data", "bulkOperations", "nodes") as? [Any])?.isEmpty == true)
        for id in ids {
            _ = try await c.gql("mutation($id: ID!) { bulkOperationCancel(id: $id) { userErrors { message } } }", variables: ["id": id])
            _ = try await c.wait(id)
        }
        let done = try await c.gql("{ bulkOperations(first: 10, query: \"status:canceled\") { nodes { id completedAt } } }")
        #expect((done.path("data", "bulkOperations", "nodes") as? [Any])?.count == 5)
    }

    @Test func bulkOperationFieldsSelectionAndAliases() async throws {
        let sim = try await startSim()
        defer { Task { await sim.stop() } }
        let c = Client(sim)
        let id = try #require(try await c.runBulk(orderQuery).id)
        _ = try await c.wait(id)
        let r = try await c.gql(
            "query($id: ID!) { op: bulkOperation(id: $id) { __typename id s: status errorCode createdAt completedAt objectCount rootObjectCount fileSize url partialDataUrl query type } }",
            variables: ["id": id])
        let op = try #require(r.path("data", "op") as? [String: Any])
        #expect(
            Array(op.keys).sorted() == [
                "__typename", "completedAt", "createdAt", "errorCode", "fileSize", "id", "objectCount", "partialDataUrl", "query",
                "rootObjectCount", "s", "type", "url",
            ])
        #expect(op["s"] as? String == "COMPLETED")
        #expect(op["errorCode"] is NSNull)
        #expect(op["partialDataUrl"] is NSNull)
        #expect(op["query"] as? String == orderQuery)
        #expect(op["type"] as? String == "QUERY")
        #expect(op["objectCount"] is String && op["rootObjectCount"] is String && op["fileSize"] is String)
        #expect((op["url"] as? String)?.hasPrefix(sim.filesBaseURL + "/bulk/") == true)
        #expect(!(op["url"] as! String).hasPrefix(sim.baseURL))
        // another app cannot see it
        let other = Client(sim, token: sim.issueToken(app: "dev-dashboard-app")!)
        let hidden = try await other.gql("query($id: ID!) { bulkOperation(id: $id) { id } }", variables: ["id": id])
        #expect(hidden.path("data", "bulkOperation") is NSNull)
    }

    @Test func cancelGoesThroughCancelingToCanceled() async throws {
        let sim = try await startSim { c in
            c.speed = .rowsPerSecond(100); c.cancelDelay = 0.2
        }
        defer { Task { await sim.stop() } }
        let c = Client(sim)
        let id = try #require(try await c.runBulk(orderQuery).id)
        try await Task.sleep(nanoseconds: 200_000_000)
        let r = try await c.gql(
            "mutation($id: ID!) { bulkOperationCancel(id: $id) { bulkOperation { id status } userErrors { field message } } }",
            variables: ["id": id])
        #expect(r.path("data", "bulkOperationCancel", "bulkOperation", "status") as? String == "CANCELING")
        #expect((r.path("data", "bulkOperationCancel", "userErrors") as? [Any])?.isEmpty == true)
        let op = try await c.wait(id)
        #expect(op["status"] as? String == "CANCELED")
        #expect(op["partialDataUrl"] is String)  // rows written before the cancel
        // canceling again: a userError without code
        let again = try await c.gql(
            "mutation($id: ID!) { bulkOperationCancel(id: $id) { userErrors { field message } } }", variables: ["id": id])
        let e = try #require((again.path("data", "bulkOperationCancel", "userErrors") as? [[String: Any]])?.first)
        #expect(e["message"] as? String == "A bulk operation cannot be canceled when it is canceled")
        let unknown = try await c.gql(
            "mutation { bulkOperationCancel(id: \"gid://shopify/BulkOperation/1\") { userErrors { field message } } }")
        #expect((unknown.path("data", "bulkOperationCancel", "userErrors") as? [[String: Any]])?.first?["field"] as? [String] == ["id"])
        // cancel field `code` does not exist on UserError
        let code = try await c.gql("mutation { bulkOperationCancel(id: \"x\") { userErrors { code } } }")
        #expect((code["errors"] as? [[String: Any]])?.first?["message"] as? String == "Field 'code' doesn't exist on type 'UserError'")
    }
}
