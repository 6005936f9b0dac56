import Foundation
import Testing

@testable import BulkQueries
@testable import Importer
@testable import Loader

/// A query file from text (no mapping unless the text has `#!` lines).
func queryFile(_ text: String, name: String = "test") throws -> QueryFile {
    try QueryFile(name: name, path: "\(name).graphql", text: text)
}

/// The repository's `queries/` folder.
let bundledQueriesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("queries").path

extension Array where Element == BulkRuleViolation {
    var rules: [BulkRuleViolation.Rule] { map(\.rule) }
}

@Suite("Query files: bulk rules")
struct QueryValidateTests {
    @Test(
        "the bundled queries pass every rule and their mappings agree with them, without warnings",
        arguments: [
            "orders", "customers", "reconcile-orders", "reconcile-customers",
        ])
    func bundledQueriesAreClean(name: String) throws {
        let file = try QueryFile.resolve(name, queriesDirectory: bundledQueriesDirectory)
        #expect(file.validate(includingWarnings: true) == [])
    }

    @Test("the reconcile queries map their type to a table with no columns")
    func reconcileMappings() throws {
        let orders = try QueryFile.resolve("reconcile-orders", queriesDirectory: bundledQueriesDirectory)
        #expect(orders.mapping.sections.count == 1)
        #expect(orders.mapping.sections[0].type == "Order" && orders.mapping.sections[0].table == "orders")
        #expect(orders.mapping.sections[0].columns.isEmpty)
        let customers = try QueryFile.resolve("reconcile-customers", queriesDirectory: bundledQueriesDirectory)
        #expect(customers.mapping.section(for: "Customer")?.table == "customers")
    }

    @Test("a GraphQL syntax error becomes a violation with line and column")
    func syntaxError() throws {
        let v = try queryFile("# comment\n{\n  orders {\n    edges { node { id ) }\n  }\n}\n").validate()
        #expect(v.count == 1)
        #expect(v[0].rule == .syntax)
        #expect(v[0].line == 4)
        #expect(v[0].column == 23)
        #expect(v[0].message.contains("GraphQL syntax error"))
    }

    @Test("exactly one top-level field, and no top-level node or nodes")
    func topLevel() throws {
        let two = try queryFile("{\n  orders { edges { node { id } } }\n  customers { edges { node { id } } }\n}").validate()
        #expect(two.rules == [.topLevelField])
        #expect(two[0].line == 3 && two[0].column == 3)

        let node = try queryFile(#"{ node(id: "gid://shopify/Order/1") { id } }"#).validate()
        #expect(node.rules == [.topLevelNode])
        let nodes = try queryFile(#"{ nodes(ids: []) { id } }"#).validate()
        #expect(nodes.rules == [.topLevelNode])

        let empty = try queryFile("{ __typename }").validate()
        #expect(empty.rules == [.topLevelField])
    }

    @Test("the top-level field must be a connection")
    func topLevelConnection() throws {
        let shop = try queryFile("{ shop { name } }").validate()
        #expect(shop.rules == [.connection])
        let bare = try queryFile("{ orders { id name } }").validate()
        #expect(bare.rules == [.connection])
        #expect(bare[0].message.contains("edges { node"))
    }

    @Test("at most five connections")
    func tooManyConnections() throws {
        let text = """
            {
              products {
                edges { node {
                  id
                  variants { edges { node { id } } }
                  metafields { edges { node { id } } }
                  media { edges { node { id } } }
                  collections { edges { node { id } } }
                  sellingPlanGroups { edges { node { id } } }
                } }
              }
            }
            """
        let v = try queryFile(text).validate()
        #expect(v.rules == [.tooManyConnections])
        #expect(v[0].line == 9)
        #expect(v[0].message.contains("has 6"))
        // Five is fine.
        let five = text.replacingOccurrences(of: "      sellingPlanGroups { edges { node { id } } }\n", with: "")
        #expect(try queryFile(five).validate() == [])
    }

    @Test("at most two levels of nested connections")
    func nestingDepth() throws {
        let text = """
            {
              customers { edges { node {
                id
                orders { edges { node {
                  id
                  fulfillmentOrders { edges { node {
                    id
                    lineItems { edges { node { id } } }
                  } } }
                } } }
              } } }
            }
            """
        let v = try queryFile(text).validate()
        #expect(v.rules == [.nestingDepth])
        #expect(v[0].line == 8)
        #expect(v[0].message.contains("customers.orders.fulfillmentOrders.lineItems"))
    }

    @Test("a connection inside a plain list field is rejected")
    func connectionInList() throws {
        let text = """
            {
              orders { edges { node {
                id
                fulfillments {
                  id
                  fulfillmentLineItems { edges { node { id quantity } } }
                }
              } } }
            }
            """
        let v = try queryFile(text).validate()
        #expect(v.rules == [.connectionInList])
        #expect(v[0].line == 6 && v[0].column == 7)
        #expect(v[0].message.contains("fulfillments"))
    }

    @Test("a node with a nested connection selects id without an alias; a leaf connection may leave it out")
    func missingID() throws {
        // A leaf connection without id: Shopify accepts it; its lines carry only __parentId.
        let leaf = try queryFile("{ orders { edges { node { id lineItems { edges { node { sku } } } } } } }")
        #expect(leaf.validate() == [])
        #expect(leaf.validate(includingWarnings: true).rules == [.missingID])
        // A node with a nested connection of its own must select id, unaliased (Shopify's rule).
        let parent = try queryFile("{ customers { edges { node { firstName orders { edges { node { id } } } } } } }").validate()
        #expect(parent.rules == [.missingID])
        #expect(parent[0].message.contains("orders is a connection nested in them"))
        let aliased = try queryFile("{ customers { edges { node { key: id orders { edges { node { id } } } } } } }").validate()
        #expect(aliased.rules == [.missingID])
        #expect(aliased[0].message.contains("without an alias"))
        // Top-level lines are stored by their id.
        let root = try queryFile("{ customers { edges { node { firstName } } } }").validate()
        #expect(root.rules == [.missingID])
    }

    @Test("a leaf connection whose nodes have no id (discountApplications) is allowed, as Shopify allows it")
    func leafConnectionWithoutID() throws {
        let v = try queryFile("{ orders { edges { node { id discountApplications { edges { node { allocationMethod } } } } } } }")
            .validate(includingWarnings: true)
        #expect(v == [])
        let nested = try queryFile(
            "{ customers { edges { node { id orders { edges { node { discountApplications { edges { node { allocationMethod } } } } } } } } } }"
        ).validate()
        #expect(nested.rules == [.missingID])
        #expect(nested[0].message.contains("customers.orders"))
    }

    @Test("first, after, pageInfo and cursor are warnings, not errors")
    func pagination() throws {
        let text = """
            {
              orders(first: 250, after: "abc") {
                pageInfo { hasNextPage endCursor }
                edges {
                  cursor
                  node { id lineItems(first: 10) { edges { node { id } } } }
                }
              }
            }
            """
        let file = try queryFile(text)
        #expect(file.validate() == [])
        let warnings = file.validate(includingWarnings: true)
        #expect(warnings.count == 5)
        #expect(warnings.allSatisfy { $0.rule == .pagination && $0.severity == .warning })
        #expect(warnings.map(\.line) == [2, 2, 3, 5, 6])
    }

    @Test("the nodes shorthand is accepted with a warning")
    func nodesShorthand() throws {
        let file = try queryFile("{ orders { nodes { id lineItems { nodes { id } } } } }")
        #expect(file.validate() == [])
        #expect(file.validate(includingWarnings: true).rules == [.nodesShorthand, .nodesShorthand])
    }

    @Test("named and inline fragments are expanded before the rules are checked")
    func fragments() throws {
        let text = """
            query Customers {
              customers { edges { node { ...CustomerFields } } }
            }
            fragment CustomerFields on Customer {
              firstName
              ... on Customer {
                orders { edges { node { ...OrderFields } } }
              }
            }
            fragment OrderFields on Order { id }
            """
        // The customers' node has a nested connection (through two fragments) but lacks id.
        let v = try queryFile(text).validate()
        #expect(v.rules == [.missingID])
        #expect(v.first?.line == 2)

        let missing = try queryFile("{ orders { edges { node { id ...Nope } } } }").validate()
        #expect(missing.rules == [.fragment])
        let cycle = try queryFile("{ orders { edges { node { id ...A } } } }\nfragment A on Order { id ...A }").validate()
        #expect(cycle.rules == [.fragment])
    }

    @Test("one query operation, without variables")
    func operations() throws {
        #expect(try queryFile("mutation { orders { edges { node { id } } } }").validate().rules == [.operation])
        #expect(
            try queryFile("{ orders { edges { node { id } } } }\n{ customers { edges { node { id } } } }").validate().rules == [.operation])
        let vars = try queryFile(#"query($q: String) { orders(query: $q) { edges { node { id } } } }"#).validate()
        #expect(vars.rules == [.variables, .variables])
    }

    @Test("templates: only known names, only in query: strings, not quoted by hand")
    func templates() throws {
        let unknown = try queryFile("{\n  orders(query: \"updated_at:>{{since}}\") { edges { node { id } } }\n}").validate()
        #expect(unknown.rules == [.template])
        #expect(unknown[0].line == 2)
        #expect(unknown[0].column == 30)
        #expect(unknown[0].message.contains("{{since}}"))

        let misplaced = try queryFile(
            #"{ orders(sortKey: UPDATED_AT, reverse: false) { edges { node { id metafield(namespace: "{{var:ns}}", key: "k") { value } } } } }"#
        )
        .validate()
        #expect(misplaced.rules == [.template])

        let quoted = try queryFile(#"{ orders(query: "tag:'{{var:tag}}'") { edges { node { id } } } }"#).validate()
        #expect(quoted.rules == [.template])
        #expect(quoted[0].message.contains("already quoted"))

        let unclosed = try queryFile(#"{ orders(query: "{{window") { edges { node { id } } } }"#).validate()
        #expect(unclosed.rules == [.template])

        let fine = try queryFile(
            #"{ orders(query: "tag:{{var:tag}} AND updated_at:>={{updated_since}} {{window}}") { edges { node { id } } } }"#)
        #expect(fine.validate() == [])
    }

    @Test("fields the table does not know are judged by their shape")
    func unknownFieldsByShape() throws {
        let file = try queryFile("{ widgets { edges { node { id gizmoCategories { edges { node { id } } } } } } }")
        #expect(file.validate() == [])
        let rules = file.analyze().rules
        #expect(rules.connections.map(\.nodeType) == ["Widget", "GizmoCategory"])
        #expect(rules.connections.allSatisfy { $0.derivedType })
        #expect(AdminSchema.derivedNodeType("addresses") == "Address")
        #expect(AdminSchema.derivedNodeType("boxes") == "Box")
        #expect(AdminSchema.derivedNodeType("lineItems") == "LineItem")
        #expect(AdminSchema.derivedNodeType("media") == "Media")
    }

    @Test("Order.transactions is a list but Refund.transactions a connection")
    func parentSpecificKinds() throws {
        let list = try queryFile(
            "{ orders { edges { node { id refunds { id transactions { edges { node { id } } } } } } } }"
        ).validate()
        #expect(list.rules == [.connectionInList])
        let ok = try queryFile("{ orders { edges { node { id transactions { id kind } } } } }").validate()
        #expect(ok == [])
    }
}

@Suite("Query files: mapping against the query")
struct QueryMappingTests {
    @Test("a mapped type that no connection produces")
    func unproducedType() throws {
        let text = """
            #! Order -> orders
            #! LineItem -> order_lines, child of Order via order_id
            #!   sku -> sku
            { orders { edges { node { id } } } }
            """
        let v = try queryFile(text).validate()
        #expect(v.rules == [.mapping])
        #expect(v[0].line == 2 && v[0].column == 4)
        #expect(v[0].message.contains("LineItem"))
    }

    @Test("a mapped path that the query does not select, with a suggestion")
    func unselectedPath() throws {
        let text = """
            #! Order -> orders
            #!   totalPriceSet.shopMoney.amount -> total_price
            #!   email -> email
            { orders { edges { node { id email totalPriceSet { presentmentMoney { amount } } } } } }
            """
        let v = try queryFile(text).validate()
        let mapping = v.filter { $0.line == 2 }
        #expect(mapping.count == 1)
        #expect(mapping[0].column == 6)
        #expect(mapping[0].message.contains("totalPriceSet.shopMoney is not selected"))
        #expect(mapping[0].message.contains("shopMoney { amount }"))
        // And presentmentMoney.amount is then lost (totalPriceSet is partly mapped).
        #expect(v.contains { $0.line == 4 && $0.message.contains("totalPriceSet.presentmentMoney.amount") })
    }

    @Test("a selected leaf under a partly mapped top-level field is reported")
    func partlyMapped() throws {
        let text = """
            #! Order -> orders
            #!   totalPriceSet.shopMoney.amount -> total_price
            {
              orders { edges { node {
                id
                totalPriceSet { shopMoney { amount currencyCode } }
              } } }
            }
            """
        let v = try queryFile(text).validate()
        #expect(v.rules == [.mapping])
        #expect(v[0].line == 6 && v[0].column == 40)
        #expect(v[0].message.contains("Order.totalPriceSet.shopMoney.currencyCode"))
        #expect(v[0].message.contains("map it"))
        // Mapping it, or mapping the whole member, fixes it.
        let fixed = text.replacingOccurrences(
            of: "#!   totalPriceSet.shopMoney.amount -> total_price",
            with: "#!   totalPriceSet.shopMoney.amount -> total_price\n#!   totalPriceSet.shopMoney.currencyCode -> currency")
        #expect(try queryFile(fixed).validate() == [])
        let whole = text.replacingOccurrences(of: "totalPriceSet.shopMoney.amount -> total_price", with: "totalPriceSet -> total_price_set")
        #expect(try queryFile(whole).validate() == [])
        // Wholly unmapped members are fine: they go to extra.
        let unmapped = text.replacingOccurrences(of: "#!   totalPriceSet.shopMoney.amount -> total_price\n", with: "")
        #expect(try queryFile(unmapped).validate() == [])
    }

    @Test("paths into scalars, lists and connections")
    func badPaths() throws {
        let text = """
            #! Order -> orders
            #!   email.domain -> domain
            #!   customAttributes.key -> attr_key
            #!   lineItems -> lines
            { orders { edges { node { id email customAttributes { key value } lineItems { edges { node { id } } } } } } }
            """
        let v = try queryFile(text).validate()
        #expect(v.map(\.line) == [2, 3, 4, 5])
        #expect(v[0].message.contains("scalar"))
        #expect(v[1].message.contains("list"))
        #expect(v[2].message.contains("connection"))
        // And the list itself is then lost: customAttributes is partly "mapped".
        #expect(v[3].message.contains("Order.customAttributes is selected but would be lost"))
    }

    @Test("a child section must match where its connection is nested")
    func childOf() throws {
        let wrongParent = """
            #! Customer -> customers
            #! Order -> orders
            #! LineItem -> order_lines, child of Order via order_id
            { customers { edges { node { id lineItems { edges { node { id } } } } } } }
            """
        let v = try queryFile(wrongParent).validate()
        #expect(v.contains { $0.rule == .mapping && $0.line == 2 })  // no Order connection
        #expect(v.contains { $0.rule == .mapping && $0.line == 3 && $0.message.contains("nested in Customer") })

        let topLevelChild = """
            #! Order -> orders
            #! LineItem -> order_lines, child of Order via order_id
            { orders { edges { node { id } } } }
            """
        #expect(try queryFile(topLevelChild).validate().count == 1)

        let noParent = """
            #! Order -> orders
            #! LineItem -> order_lines
            { orders { edges { node { id lineItems { edges { node { id } } } } } } }
            """
        let file = try queryFile(noParent)
        #expect(file.validate() == [])
        #expect(file.validate(includingWarnings: true).map(\.rule) == [.mapping])
    }

    @Test("mapping paths use response keys, so aliases count")
    func aliases() throws {
        let text = """
            #! Customer -> customers
            #!   mail.emailAddress -> email
            { customers { edges { node { id mail: defaultEmailAddress { emailAddress } } } } }
            """
        #expect(try queryFile(text).validate() == [])
    }
}

@Suite("Query files: guessed node types")
struct QueryGuessedTypeTests {
    @Test("a section for a type a guessed connection may produce is only a warning")
    func guessedType() throws {
        let text = """
            #! Gadget -> gadgets
            #!   label -> label
            { widgets { edges { node { id label } } } }
            """
        let file = try queryFile(text)
        #expect(file.validate() == [])
        let warnings = file.validate(includingWarnings: true)
        #expect(warnings.map(\.rule) == [.mapping])
        #expect(warnings[0].message.contains("widgets → Widget?"))
    }
}
