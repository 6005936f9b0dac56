import Foundation
import Testing

@testable import BulkQueries
@testable import Importer

func date(_ iso: String) -> Date {
    let f = ISO8601DateFormatter()
    f.formatOptions = iso.contains(".") ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
    return f.date(from: iso)!
}

/// The string value of the `query:` argument of the top-level field of a prepared text, read back
/// with the GraphQL parser.
func rootQueryArgument(_ text: String) throws -> String? {
    let (document, violations) = QueryDocument.parse(text)
    #expect(violations == [])
    guard case .field(let root)? = document?.selections.first else { return nil }
    guard case .string(let value, _, _)? = root.argument("query")?.value else { return nil }
    return value
}

@Suite("Query files: prepare")
struct QueryPrepareTests {
    let june = QueryWindow(field: "updated_at", start: date("2025-06-01T00:00:00Z"), end: date("2025-07-01T00:00:00Z"))

    func bundled(_ name: String) throws -> QueryFile {
        try QueryFile.resolve(name, queriesDirectory: bundledQueriesDirectory)
    }

    @Test("a window fills {{window}} with quoted UTC bounds and pairs sortKey")
    func window() throws {
        let prepared = try bundled("orders").prepare(window: june)
        #expect(prepared.rootField == "orders")
        #expect(prepared.rootType == "Order")
        #expect(prepared.types == ["Order", "LineItem"])
        #expect(prepared.warnings == [])
        #expect(
            prepared.text.contains(
                #"orders(query: "updated_at:>='2025-06-01T00:00:00Z' AND updated_at:<'2025-07-01T00:00:00Z'", sortKey: UPDATED_AT) {"#))
        #expect(!prepared.text.contains("#!"))
        #expect(!prepared.text.contains("{{"))
        // The result is itself a clean bulk query.
        let again = try queryFile(prepared.text)
        #expect(again.validate(includingWarnings: true) == [])
        #expect(try rootQueryArgument(prepared.text) == "updated_at:>='2025-06-01T00:00:00Z' AND updated_at:<'2025-07-01T00:00:00Z'")
    }

    @Test("without a window the query: argument goes (on the AST), and no sortKey is added")
    func noWindow() throws {
        let prepared = try bundled("customers").prepare(window: nil)
        #expect(prepared.text.hasPrefix("{\n  customers {\n    edges {\n      node {\n        __typename\n        id\n"))
        #expect(!prepared.text.contains("query:"))
        #expect(!prepared.text.contains("sortKey"))
        #expect(prepared.types == ["Customer"])
        // A window with no bounds is the same as none.
        #expect(try bundled("customers").prepare(window: QueryWindow(field: "updated_at", start: nil, end: nil)) == prepared)
    }

    @Test("only the bounds that are set; created_at pairs with CREATED_AT; seconds rounded outwards")
    func bounds() throws {
        let since = try bundled("orders").prepare(
            window: QueryWindow(field: "created_at", start: date("2024-01-02T03:04:05.900Z"), end: nil))
        #expect(try rootQueryArgument(since.text) == "created_at:>='2024-01-02T03:04:05Z'")
        #expect(since.text.contains("sortKey: CREATED_AT"))
        let before = try bundled("orders").prepare(
            window: QueryWindow(field: "updated_at", start: nil, end: date("2024-01-02T03:04:05.100Z")))
        #expect(try rootQueryArgument(before.text) == "updated_at:<'2024-01-02T03:04:06Z'")
    }

    @Test("an explicit sortKey is kept; a mismatching one gives a warning")
    func explicitSortKey() throws {
        let file = try queryFile(#"{ orders(query: "{{window}}", sortKey: CREATED_AT) { edges { node { id } } } }"#)
        let prepared = try file.prepare(window: june)
        #expect(prepared.text.contains("sortKey: CREATED_AT"))
        #expect(!prepared.text.contains("UPDATED_AT"))
        #expect(prepared.warnings.map(\.rule) == [.sortKey])
        let matching = try queryFile(#"{ orders(query: "{{window}}", sortKey: UPDATED_AT) { edges { node { id } } } }"#).prepare(
            window: june)
        #expect(matching.warnings == [])
    }

    @Test("excluding LineItem removes the lineItems connection and the rest stays valid")
    func excludeLineItems() throws {
        let prepared = try bundled("orders").prepare(window: june, excludingTypes: ["LineItem"])
        #expect(prepared.types == ["Order"])
        #expect(!prepared.text.contains("lineItems"))
        #expect(!prepared.text.contains("sku"))
        #expect(prepared.text.contains("shippingAddress"))
        #expect(try queryFile(prepared.text).validate(includingWarnings: true) == [])
    }

    @Test("excluding a type also drops an object left empty, and the root type cannot be excluded")
    func excludeNested() throws {
        let file = try queryFile(
            """
            {
              orders(query: "{{window}}") { edges { node {
                id
                customer { orders { edges { node { id } } } }
                lineItems { edges { node { id } } }
              } } }
            }
            """)
        // Customer.orders is Order: excluding Order is excluding the root.
        #expect(throws: QueryFileError.self) { try file.prepare(window: nil, excludingTypes: ["Order"]) }
        let prepared = try file.prepare(window: nil, excludingTypes: ["LineItem"])
        #expect(prepared.types == ["Order"])  // customer.orders nodes are Orders too
        let customers = try queryFile(
            """
            { customers { edges { node { id lastOrder { lineItems { edges { node { id } } } } } } } }
            """)
        let without = try customers.prepare(window: nil, excludingTypes: ["LineItem"])
        #expect(!without.text.contains("lastOrder"))
        #expect(try queryFile(without.text).validate() == [])
    }

    @Test("first, after, pageInfo and cursor are stripped; fragments are expanded")
    func stripAndExpand() throws {
        let text = """
            query Orders {
              orders(first: 250, after: "abc", query: "{{window}}") {
                pageInfo { hasNextPage }
                edges { cursor node { ...O } }
              }
            }
            fragment O on Order { id name lineItems(first: 5) { edges { node { id ... on LineItem { sku } } } } }
            """
        let prepared = try queryFile(text).prepare(window: nil)
        for gone in ["first", "after", "pageInfo", "cursor", "fragment", "...O"] {
            #expect(!prepared.text.contains(gone), "\(gone)")
        }
        #expect(prepared.text.contains("... on Order {"))
        #expect(prepared.text.contains("... on LineItem {"))
        #expect(prepared.types == ["Order", "LineItem"])
        #expect(try queryFile(prepared.text).validate(includingWarnings: true) == [])
    }

    @Test("bound templates take single-quoted timestamps from the window")
    func boundTemplates() throws {
        let file = try queryFile(
            #"{ orders(query: "updated_at:>={{updated_since}} AND updated_at:<{{updated_before}} AND status:open") { edges { node { id } } } }"#
        )
        let prepared = try file.prepare(window: june)
        #expect(
            try rootQueryArgument(prepared.text)
                == "updated_at:>='2025-06-01T00:00:00Z' AND updated_at:<'2025-07-01T00:00:00Z' AND status:open")
        #expect(prepared.text.contains("sortKey: UPDATED_AT"))
        // Wrong field, no window, missing bound: errors naming the template, file and line.
        for window in [
            QueryWindow(field: "created_at", start: june.start, end: june.end), nil,
            QueryWindow(field: "updated_at", start: june.start, end: nil),
        ] {
            do {
                _ = try file.prepare(window: window)
                Issue.record("expected an error for \(String(describing: window))")
            } catch let error as QueryFileError {
                #expect(error.file == "test.graphql")
                #expect(error.line == 1)
                #expect(error.message.contains("{{updated_"))
            }
        }
    }

    @Test("an empty {{window}} takes its AND with it")
    func emptyWindowConnective() throws {
        for (query, expected) in [
            ("status:open AND {{window}}", "status:open"),
            ("{{window}} AND status:open", "status:open"),
            ("status:open AND {{window}} AND test:false", "status:open AND test:false"),
            ("{{window}}", nil),
        ] as [(String, String?)] {
            let file = try queryFile(#"{ orders(query: "\#(query)") { edges { node { id } } } }"#)
            #expect(try rootQueryArgument(file.prepare(window: nil).text) == expected, "\(query)")
        }
        let file = try queryFile(#"{ orders(query: "status:open AND {{window}}") { edges { node { id } } } }"#)
        #expect(
            try rootQueryArgument(file.prepare(window: june).text)
                == "status:open AND updated_at:>='2025-06-01T00:00:00Z' AND updated_at:<'2025-07-01T00:00:00Z'")
    }

    @Test("{{var:NAME}} values are quoted and escaped: no way out of the search term or the GraphQL string")
    func variablesAreEscaped() throws {
        let file = try queryFile(#"{ orders(query: "tag:{{var:tag}} AND {{window}}") { edges { node { id } } } }"#)
        let hostile = #"x' OR tag:'y\" } } mutation { z \"#
        let prepared = try file.prepare(window: nil, variables: ["tag": hostile])
        let value = try rootQueryArgument(prepared.text)
        #expect(value == #"tag:'x\' OR tag:\'y\\" } } mutation { z \\'"#)
        // Still exactly one field, one argument: nothing broke out.
        let again = try queryFile(prepared.text)
        #expect(again.validate() == [])
        #expect(again.analyze().rules.connections.count == 1)
        #expect(!prepared.text.contains("\n  mutation"))

        #expect(throws: QueryFileError.self) { try file.prepare(window: nil, variables: ["tag": "a\nb"]) }
    }

    @Test("an unknown variable or template is an error naming it and the file and line")
    func unknownTemplate() throws {
        let file = try queryFile("#! Order -> orders\n{\n  orders(query: \"tag:{{var:tag}}\") { edges { node { id } } }\n}")
        do {
            _ = try file.prepare(window: nil, variables: ["other": "x"])
            Issue.record("expected an error")
        } catch let error as QueryFileError {
            #expect(error.description.hasPrefix("test.graphql:3: "))
            #expect(error.message.contains("{{var:tag}}"))
            #expect(error.message.contains("other"))
        }
        let unknown = try queryFile("{\n  orders(query: \"{{since}}\") { edges { node { id } } }\n}")
        do {
            _ = try unknown.prepare(window: nil)
            Issue.record("expected an error")
        } catch let error as QueryFileError {
            #expect(error.line == 2)
            #expect(error.description.contains("{{since}}"))
        }
    }

    @Test("a window with no template to put it in is an error (else a delta would import everything)")
    func windowWithoutTemplate() throws {
        let file = try queryFile("{ orders { edges { node { id } } } }")
        #expect(throws: QueryFileError.self) { try file.prepare(window: june) }
        #expect(try file.prepare(window: nil).types == ["Order"])
        #expect(throws: QueryFileError.self) {
            try queryFile(#"{ orders(query: "{{window}}") { edges { node { id } } } }"#)
                .prepare(window: QueryWindow(field: "updated_at", start: june.end, end: june.start))
        }
    }

    @Test("a query that breaks the rules cannot be prepared; the error lists every violation")
    func violationsThrow() throws {
        let file = try queryFile("{\n  orders { edges { node { name } } }\n  customers { edges { node { id } } }\n}")
        do {
            _ = try file.prepare(window: nil)
            Issue.record("expected an error")
        } catch let error as QueryFileError {
            #expect(error.violations.map(\.rule) == [.missingID, .topLevelField])
            #expect(error.description.components(separatedBy: "\n").count == 2)
            #expect(error.description.hasPrefix("test.graphql:2:3: "))
        }
    }

    @Test("the window's search filter")
    func searchFilter() {
        #expect(june.searchFilter == "updated_at:>='2025-06-01T00:00:00Z' AND updated_at:<'2025-07-01T00:00:00Z'")
        #expect(QueryWindow(field: "created_at", start: nil, end: nil).searchFilter == nil)
        let coded = try? JSONDecoder().decode(QueryWindow.self, from: JSONEncoder().encode(june))
        #expect(coded == june)
    }
}
