import Foundation
import ShopifySimulator
import TestSupport
import Testing

/// The simulator started with the real 2026-01 schema (`--schema`).
func startSchemaSim() async throws -> ShopifySimulator {
    let path = try SharedAdminSchemas.path("2026-01")
    return try await startSim { $0.schemaPath = path }
}

@Suite("Simulator: the real Admin API schema (--schema)")
struct SchemaModeTests {
    @Test("a misspelt field: Shopify's message, location, path and code, in normal and bulk requests")
    func misspeltField() async throws {
        let sim = try await startSchemaSim()
        defer { Task { await sim.stop() } }
        let c = Client(sim)
        let r = try await c.gql("{\n  customers(first: 2) {\n    nodes { id firstNme }\n  }\n}")
        let errors = try #require(r["errors"] as? [[String: Any]])
        #expect(errors.count == 1)
        let e = try #require(errors.first)
        #expect(e["message"] as? String == "Field 'firstNme' doesn't exist on type 'Customer'")
        #expect((e["locations"] as? [[String: Int]])?.first == ["line": 3, "column": 16])
        #expect(e["path"] as? [String] == ["query", "customers", "nodes", "firstNme"])
        #expect((e["extensions"] as? [String: String])?["code"] == "undefinedField")
        #expect(r["data"] == nil)

        let bulk = try await c.runBulk("{ customers { edges { node { id firstNme } } } }")
        #expect(bulk.id == nil)
        #expect(bulk.userErrors.count == 1)
        #expect(bulk.userErrors.first?["message"] as? String == "Invalid bulk query: Field 'firstNme' doesn't exist on type 'Customer'")
        #expect(bulk.userErrors.first?["code"] as? String == "INVALID")
        #expect(sim.operations.isEmpty)
    }

    @Test("a wrong enum value: Shopify's argumentLiteralsIncompatible, in normal and bulk requests")
    func wrongEnumValue() async throws {
        let sim = try await startSchemaSim()
        defer { Task { await sim.stop() } }
        let c = Client(sim)
        let r = try await c.gql("{ orders(first: 1, sortKey: UPDATED) { nodes { id } } }")
        let e = try #require((r["errors"] as? [[String: Any]])?.first)
        #expect(
            e["message"] as? String == "Argument 'sortKey' on Field 'orders' has an invalid value (UPDATED). Expected type 'OrderSortKeys'."
        )
        #expect((e["extensions"] as? [String: String])?["code"] == "argumentLiteralsIncompatible")
        #expect(e["path"] as? [String] == ["query", "orders", "sortKey"])
        let bulk = try await c.runBulk("{ orders(sortKey: UPDATED) { edges { node { id } } } }")
        #expect(
            bulk.userErrors.map { $0["message"] as? String } == [
                "Invalid bulk query: Argument 'sortKey' on Field 'orders' has an invalid value (UPDATED). Expected type 'OrderSortKeys'."
            ])
    }

    @Test("a connection with first: inside the list Order.fulfillments: valid GraphQL, refused by the bulk rules")
    func connectionInList() async throws {
        let sim = try await startSchemaSim()
        defer { Task { await sim.stop() } }
        let c = Client(sim)
        let inner =
            "{ orders { edges { node { id fulfillments(first: 5) { id fulfillmentLineItems(first: 10) { edges { node { id } } } } } } } }"
        // The schema accepts it as a normal query …
        let normal = try await c.gql(inner.replacingOccurrences(of: "{ orders {", with: "{ orders(first: 2) {"))
        #expect(normal["errors"] == nil)
        #expect((normal.path("data", "orders", "edges") as? [Any])?.count == 2)
        // … bulk does not.
        let bulk = try await c.runBulk(inner)
        #expect(bulk.id == nil)
        #expect(
            bulk.userErrors.map { $0["message"] as? String } == [
                "Queries that contain a connection field within a list field are not currently supported."
            ])
    }

    @Test("introspection is answered from the schema")
    func introspection() async throws {
        let sim = try await startSchemaSim()
        defer { Task { await sim.stop() } }
        let r = try await Client(sim).gql(#"{ __type(name: "Customer") { name fields { name } } }"#)
        let names = ((r.path("data", "__type", "fields") as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String }
        #expect(names.count > 30)
        #expect(names.contains("defaultEmailAddress") && names.contains("metafield"))
        let schema = try await Client(sim).gql("{ __schema { queryType { name } mutationType { name } } }")
        #expect(schema.path("data", "__schema", "queryType", "name") as? String == "QueryRoot")
    }

    @Test("fields the simulator does not model: null where nullable, a type-correct value where not")
    func unmodelledFields() async throws {
        let sim = try await startSchemaSim()
        defer { Task { await sim.stop() } }
        let r = try await Client(sim).gql(
            "{ shop { name ianaTimezone setupRequired } customers(first: 1) { nodes { id lifetimeDuration productSubscriberStatus statistics { predictedSpendTier } events(first: 2) { nodes { id } pageInfo { hasNextPage } } } } }"
        )
        #expect(r["errors"] == nil, "\(r)")
        #expect(r.path("data", "shop", "name") as? String == "sim-shop")
        #expect(r.path("data", "shop", "ianaTimezone") as? String == "")  // String!
        #expect(r.path("data", "shop", "setupRequired") as? Bool == false)  // Boolean!
        let customer = try #require((r.path("data", "customers", "nodes") as? [[String: Any]])?.first)
        #expect(customer["id"] as? String != nil)
        #expect(customer["lifetimeDuration"] as? String == "")  // String!
        #expect(customer["productSubscriberStatus"] as? String == "ACTIVE")  // enum!: its first value
        #expect(customer.path("statistics", "predictedSpendTier") is NSNull)  // nullable
        #expect((customer.path("events", "nodes") as? [Any])?.isEmpty == true)  // an empty connection
        #expect(customer.path("events", "pageInfo", "hasNextPage") as? Bool == false, "\(customer)")
    }

    @Test("a valid bulk query over a connection the simulator has no data for completes with no lines")
    func unmodelledRoot() async throws {
        let sim = try await startSchemaSim()
        defer { Task { await sim.stop() } }
        let c = Client(sim)
        let (op, lines) = try await c.export("{ products { edges { node { id title variants { edges { node { id sku } } } } } } }")
        #expect(op["status"] as? String == "COMPLETED")
        #expect(op["url"] is NSNull)
        #expect(lines.isEmpty)
        // Without the schema the simulator still says it cannot.
        let plain = try await startSim()
        defer { Task { await plain.stop() } }
        let refused = try await Client(plain).runBulk("{ products { edges { node { id title } } } }")
        #expect(refused.id == nil)
        #expect(refused.userErrors.isEmpty == false)
    }

    @Test("deprecated fields of the schema are named in X-Shopify-API-Deprecated-Reason")
    func deprecationHeader() async throws {
        let sim = try await startSchemaSim()
        defer { Task { await sim.stop() } }
        let r = try await Client(sim).post("{ orders(first: 1) { nodes { id riskLevel } } }")
        #expect(r.status == 200)
        #expect(r.object["errors"] == nil, "\(r.text)")
        #expect(r.header("X-Shopify-API-Deprecated-Reason")?.contains("Order.riskLevel") == true)
        let clean = try await Client(sim).post("{ orders(first: 1) { nodes { id } } }")
        #expect(clean.header("X-Shopify-API-Deprecated-Reason") == nil)
    }

    @Test("metafields and discount applications, in a bulk export: id-less discount lines with __parentId only")
    func metafieldsAndDiscounts() async throws {
        let sim = try await startSchemaSim()
        defer { Task { await sim.stop() } }
        let c = Client(sim)
        let (_, customers) = try await c.export(
            #"{ customers { edges { node { id tier: metafield(namespace: "custom", key: "loyalty_tier") { value } vip: metafield(key: "custom.vip") { value } } } } }"#
        )
        #expect(customers.count == 30)
        #expect(
            customers.allSatisfy {
                ($0.path("tier", "value") as? String).map { ["bronze", "silver", "gold", "platinum"].contains($0) } == true
            })
        #expect(customers.contains { $0.path("vip", "value") as? String == "true" })
        let (_, lines) = try await c.export(
            "{ orders { edges { node { id discountApplications { edges { node { __typename allocationMethod index value { ... on PricingPercentageValue { percentage } ... on MoneyV2 { amount currencyCode } } ... on DiscountCodeApplication { code } } } } } } } }"
        )
        let discounts = lines.filter { $0["__parentId"] != nil }
        #expect(!discounts.isEmpty)
        #expect(discounts.allSatisfy { $0["id"] == nil && ($0["__parentId"] as? String)?.hasPrefix("gid://shopify/Order/") == true })
        #expect(
            discounts.contains {
                $0["__typename"] as? String == "DiscountCodeApplication" && ($0["code"] as? String)?.hasPrefix("SAVE") == true
            })
        #expect(
            discounts.contains {
                $0["__typename"] as? String == "AutomaticDiscountApplication" && $0.path("value", "amount") as? String == "4.95"
            })
    }
}
