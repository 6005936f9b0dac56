import Foundation
import ShopifyAdmin
import TestSupport
import Testing

@testable import BulkQueries
@testable import Importer

/// The shared SDL of `version`, built once per process.
func sharedSchema(_ version: String) throws -> AdminAPISchema {
    try AdminAPISchema.load(path: try SharedAdminSchemas.path(version))
}

@Suite("Query files: the real Admin API schema")
struct SchemaValidationTests {
    @Test("each shared SDL builds, once per process, with the types its README names")
    func buildsOnce() throws {
        let started = ContinuousClock.now
        let schema = try sharedSchema("2026-01")
        let first = ContinuousClock.now - started
        let again = try sharedSchema("2026-01")
        #expect(schema === again)
        #expect(schema.typeCount > 2900)
        #expect(schema.hasType("Customer") && schema.hasType("BulkOperation"))
        print("built admin-2026-01 in \(first)")
    }
}

/// Every way the engine prepares a bundled query.
let bundledPreparations: [(label: String, window: QueryWindow?, excluding: Set<String>)] = [
    ("no window", nil, []),
    (
        "updated_at window",
        QueryWindow(
            field: "updated_at", start: Date(timeIntervalSince1970: 1_750_000_000), end: Date(timeIntervalSince1970: 1_760_000_000)),
        []
    ),
    (
        "created_at window",
        QueryWindow(
            field: "created_at", start: Date(timeIntervalSince1970: 1_700_000_000), end: Date(timeIntervalSince1970: 1_760_000_000)),
        []
    ),
    ("delta from a high-water mark", QueryWindow(field: "updated_at", start: Date(timeIntervalSince1970: 1_750_000_000), end: nil), []),
    ("line items off", QueryWindow(field: "updated_at", start: Date(timeIntervalSince1970: 1_750_000_000), end: nil), ["LineItem"]),
]

extension SchemaValidationTests {
    @Test(
        "every bundled query, in every preparation, is valid for the real 2026-01 schema, with no warning",
        arguments: ["orders", "customers", "reconcile-orders", "reconcile-customers"])
    func bundledQueriesAgainst202601(name: String) throws {
        var file = try QueryFile.resolve(name, queriesDirectory: bundledQueriesDirectory)
        file.checks = QueryCheckContext(schema: try sharedSchema("2026-01"), apiVersion: .default)
        #expect(file.validate(includingWarnings: true) == [])
        let schema = try sharedSchema("2026-01")
        var prepared = 0
        for p in bundledPreparations {
            let query = try file.prepare(window: p.window, excludingTypes: p.excluding)
            // The text as submitted, checked again on its own: nothing the schema refuses or deprecates.
            #expect(schema.diagnose(query.text) == [], "\(name), \(p.label)")
            prepared += 1
        }
        #expect(prepared == bundledPreparations.count)
    }

    @Test("the bundled queries are valid for 2025-07 and 2026-04 too", arguments: ["2025-07", "2026-04"])
    func bundledQueriesOtherVersions(version: String) throws {
        let schema = try sharedSchema(version)
        let names = ["orders", "customers", "reconcile-orders", "reconcile-customers"]
        for name in names {
            var file = try QueryFile.resolve(name, queriesDirectory: bundledQueriesDirectory)
            file.checks = QueryCheckContext(schema: schema, apiVersion: try APIVersion(version))
            #expect(file.validate() == [], "\(name) on \(version)")
            for p in bundledPreparations {
                #expect(throws: Never.self) { try file.prepare(window: p.window, excludingTypes: p.excluding) }
            }
        }
        #expect(!names.isEmpty)
    }

    @Test("three mistakes in one file: all three reported with line, column and a did-you-mean")
    func threeMistakes() throws {
        let text = """
            #! Customer -> customers
            {
              customers(query: "{{window}}", sortKey: UPDATED) {
                edges {
                  node {
                    id
                    firstNme
                    defaultEmailAddress { emailAdress }
                  }
                }
              }
            }
            """
        var file = try queryFile(text)
        file.checks = QueryCheckContext(schema: try sharedSchema("2026-01"))
        let errors = file.validate()
        #expect(errors.count == 3)
        #expect(errors.map { "\($0.line):\($0.column)" } == ["3:43", "7:9", "8:31"])
        #expect(errors.allSatisfy { $0.rule == .schema })
        #expect(errors[0].message.contains("\"UPDATED\"") && errors[0].message.contains("CustomerSortKeys"))
        #expect(errors[1].message.contains("Did you mean \"firstName\""))
        #expect(errors[2].message.contains("Did you mean \"emailAddress\""))
    }

    @Test("a deprecated field is a warning with Shopify's reason")
    func deprecation() throws {
        var file = try queryFile("{ customers { edges { node { id email } } } }")
        file.checks = QueryCheckContext(schema: try sharedSchema("2026-01"))
        #expect(file.validate() == [])
        let warnings = file.validate(includingWarnings: true)
        #expect(warnings.rules == [.deprecated])
        #expect(warnings.first?.message.contains("Customer.email is deprecated") == true)
        #expect(warnings.first?.message.contains("defaultEmailAddress") == true)
        #expect(warnings.first?.severity == .warning)
    }

    @Test("defaultEmailAddress on a 2025-01 shop: which field and which version, with or without a schema")
    func versionFacts() throws {
        var file = try QueryFile.resolve("customers", queriesDirectory: bundledQueriesDirectory)
        file.checks = QueryCheckContext(apiVersion: try APIVersion("2025-01"))
        let errors = file.validate()
        #expect(errors.rules == [.apiVersion, .apiVersion])
        #expect(errors.first?.message.contains("Customer.defaultEmailAddress exists from API 2025-04") == true)
        #expect(errors.first?.message.contains("2025-01") == true)
        #expect(errors.last?.message.contains("Customer.defaultPhoneNumber") == true)
        #expect(throws: QueryFileError.self) { try file.prepare(window: nil) }
        // A newer schema does not hide it.
        file.checks.schema = try sharedSchema("2026-01")
        #expect(file.validate().rules == [.apiVersion, .apiVersion])
        // 2025-04 and later are fine.
        file.checks = QueryCheckContext(apiVersion: try APIVersion("2025-04"))
        #expect(file.validate() == [])
    }

    @Test("with the schema, connections and lists are exact: a connection inside the list Order.fulfillments is refused")
    func exactClassification() throws {
        let schema = try sharedSchema("2026-01")
        var inList = try queryFile(
            "{ orders { edges { node { id fulfillments(first: 5) { id fulfillmentLineItems(first: 10) { edges { node { id } } } } } } } }")
        inList.checks = QueryCheckContext(schema: schema)
        #expect(inList.validate().rules.contains(.connectionInList))
        // discountApplications: a connection of the interface DiscountApplication, whose nodes have no id.
        var discounts = try queryFile(
            "{ orders { edges { node { id discountApplications { edges { node { __typename allocationMethod value { __typename } } } } } } } }"
        )
        discounts.checks = QueryCheckContext(schema: schema)
        #expect(discounts.validate(includingWarnings: true) == [])
        let (_, rules, _) = discounts.analyze()
        let connection = rules.connections.first { $0.path == ["orders", "discountApplications"] }
        #expect(connection?.nodeType == "DiscountApplication")
        #expect(connection?.concreteTypes.contains("DiscountCodeApplication") == true)
        #expect(connection?.selectsID == false)
        // A field the built-in table does not know gets its node type from the schema, not a guess.
        var guessed = try queryFile("{ orders { edges { node { id fulfillmentOrders { edges { node { id } } } } } } }")
        guessed.checks = QueryCheckContext(schema: schema)
        let c = guessed.analyze().rules.connections.last
        #expect(c?.nodeType == "FulfillmentOrder" && c?.derivedType == false)
    }
}

extension SchemaValidationTests {
    @Test(
        "every operation the client sends is valid, and not deprecated, in the schema of each version that uses it",
        arguments: SharedAdminSchemas.versions)
    func clientOperations(version: String) throws {
        let schema = try sharedSchema(version)
        let operations = AdminOperations.all(try APIVersion(version))
        #expect(operations.count == 8)
        for op in operations {
            #expect(schema.diagnose(op.text) == [], "\(op.name) on \(version)")
        }
    }

    @Test("the version switch matters: 2026-01's poll and list do not exist in 2025-07, 2025-07's still work in 2026-01")
    func clientOperationsNeedTheirVersion() throws {
        let old = try sharedSchema("2025-07")
        let new = try APIVersion("2026-01")
        let poll = old.diagnose(AdminOperations.poll(new).query)
        #expect(poll.count == 1)
        #expect(poll.first?.message.contains("Cannot query field \"bulkOperation\" on type \"QueryRoot\"") == true)
        #expect(!old.diagnose(AdminOperations.list(new)).isEmpty)
        // groupObjects exists in 2025-07, not before: the pre-2025-07 mutation is valid everywhere.
        let before = try APIVersion("2025-04")
        #expect(old.diagnose(AdminOperations.submit(before)) == [])
        // currentBulkOperation is deprecated in 2026-01: the client does not use it there.
        let current = try sharedSchema("2026-01").diagnose(AdminOperations.list(try APIVersion("2025-07")))
        #expect(current.count == 1 && current.first?.isDeprecation == true)
    }
}
