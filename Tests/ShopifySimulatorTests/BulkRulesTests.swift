import Testing

@testable import ShopifySimulator

/// The bulk-query validator, without HTTP.
@Suite("Bulk rules")
struct BulkRulesTests {
    func check(_ query: String, version: Int = 202601) -> [String] {
        guard case .success(let parsed) = DocumentParser.parse(query, variables: [:], operationName: nil) else { return ["parse error"] }
        var c = SelectionCompiler(version: version)
        let fields = c.compile(parsed.selections, on: "QueryRoot", path: ["query"])
        if !c.errors.isEmpty { return c.errors.map(\.message) }
        switch BulkRules.plan(fields) {
        case .success: return []
        case .failure(let v): return v.messages
        }
    }

    @Test func acceptsTheServiceDeskQueries() {
        #expect(
            check(
                "{ orders(query: \"updated_at:>='2025-01-01'\", sortKey: UPDATED_AT) { edges { node { id name lineItems { edges { node { id title } } } } } } }"
            ) == [])
        #expect(
            check(
                "{ customers { nodes { id displayName defaultEmailAddress { emailAddress } addressesV2 { nodes { id city } } orders { edges { node { id lineItems { nodes { id } } } } } } } }"
            ) == [])
    }

    @Test func rejectsEachViolation() {
        #expect(check("{ shop { name } }") == ["Bulk queries must contain at least one connection."])
        #expect(check("{ node(id: \"gid://shopify/Order/1\") { id } }").first?.contains("`node` or `nodes`") == true)
        #expect(
            check("{ orders { edges { node { id } } } customers { edges { node { id } } } }").first?.contains("exactly one top-level field")
                == true)
        #expect(
            check(
                "{ customers { edges { node { id addressesV2 { edges { node { id } } } a2: addressesV2 { edges { node { id } } } orders { edges { node { id lineItems { edges { node { id } } } } } } o2: orders { edges { node { id } } } } } } }"
            )
            .contains("Bulk queries cannot contain more than 5 connections."))
        #expect(
            check(
                "{ customers { edges { node { id orders { edges { node { id customer { id orders { edges { node { id customer { id orders { edges { node { id } } } } } } } } } } } } } } }"
            )
            .contains("Bulk queries cannot contain connections with a nesting depth greater than 2."))
        #expect(
            check("{ orders { edges { node { id fulfillments { id fulfillmentLineItems { edges { node { id } } } } } } } }")
                == ["Queries that contain a connection field within a list field are not currently supported."])
        #expect(
            check("{ orders { edges { node { name lineItems { edges { node { id } } } } } } }").first?.contains(
                "must select the 'id' field") == true)
        #expect(check("{ orders { edges { node { id bogus } } } }") == ["Field 'bogus' doesn't exist on type 'Order'"])
    }

    @Test func versionsGateFields() {
        #expect(
            check("{ customers { edges { node { id defaultPhoneNumber { phoneNumber } } } } }", version: 202501) == [
                "Field 'defaultPhoneNumber' doesn't exist on type 'Customer'"
            ])
        #expect(check("{ customers { edges { node { id defaultPhoneNumber { phoneNumber } } } } }", version: 202504) == [])
    }
}
