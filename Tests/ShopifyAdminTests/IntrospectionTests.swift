import Foundation
import Testing

@testable import ShopifyAdmin

@Suite("Introspection to SDL (no I/O)")
struct IntrospectionTests {
    static func t(_ kind: String, _ name: String? = nil, of inner: JSONValue? = nil) -> JSONValue {
        var o: [String: JSONValue] = ["kind": .string(kind), "name": name.map(JSONValue.string) ?? .null]
        if let inner { o["ofType"] = inner }
        return .object(o)
    }

    @Test("types, fields with arguments and defaults, deprecations (quoted safely), unions, enums, inputs; built-ins left out")
    func printsSDL() throws {
        let data: JSONValue = [
            "__schema": [
                "queryType": ["name": "QueryRoot"], "mutationType": ["name": "Mutation"], "subscriptionType": nil,
                "directives": [["name": "deprecated", "locations": ["FIELD_DEFINITION"], "args": []]],
                "types": [
                    ["kind": "SCALAR", "name": "String"], ["kind": "SCALAR", "name": "DateTime"],
                    ["kind": "OBJECT", "name": "__Type", "fields": []],
                    [
                        "kind": "OBJECT", "name": "QueryRoot", "interfaces": [],
                        "fields": [
                            [
                                "name": "customers", "isDeprecated": false,
                                "args": [
                                    ["name": "first", "type": Self.t("SCALAR", "Int"), "defaultValue": nil],
                                    ["name": "sortKey", "type": Self.t("ENUM", "CustomerSortKeys"), "defaultValue": "ID"],
                                ],
                                "type": Self.t("NON_NULL", of: Self.t("OBJECT", "CustomerConnection")),
                            ],
                            [
                                "name": "old", "isDeprecated": true, "deprecationReason": "Use \"new\" \\ instead.\nSoon.", "args": [],
                                "type": Self.t("LIST", of: Self.t("NON_NULL", of: Self.t("SCALAR", "String"))),
                            ],
                        ],
                    ],
                    ["kind": "UNION", "name": "PricingValue", "possibleTypes": [["name": "MoneyV2"], ["name": "PricingPercentageValue"]]],
                    [
                        "kind": "ENUM", "name": "CustomerSortKeys",
                        "enumValues": [
                            ["name": "ID", "isDeprecated": false], ["name": "NAME", "isDeprecated": true, "deprecationReason": nil],
                        ],
                    ],
                    [
                        "kind": "INPUT_OBJECT", "name": "Filter",
                        "inputFields": [["name": "ids", "type": Self.t("LIST", of: Self.t("SCALAR", "ID")), "defaultValue": "[]"]],
                    ],
                ],
            ]
        ]
        let (sdl, count) = try AdminIntrospection.sdl(fromIntrospection: data)
        #expect(count == 5)  // DateTime, QueryRoot, PricingValue, CustomerSortKeys, Filter
        #expect(sdl.hasPrefix("schema {\n  query: QueryRoot\n  mutation: Mutation\n}\n"))
        #expect(sdl.contains("scalar DateTime\n"))
        #expect(!sdl.contains("scalar String") && !sdl.contains("__Type") && !sdl.contains("directive @deprecated"))
        #expect(sdl.contains("  customers(first: Int, sortKey: CustomerSortKeys = ID): CustomerConnection!\n"))
        #expect(sdl.contains(#"  old: [String!] @deprecated(reason: "Use \"new\" \\ instead.\nSoon.")"# + "\n"))
        #expect(sdl.contains("union PricingValue = MoneyV2 | PricingPercentageValue\n"))
        #expect(sdl.contains("enum CustomerSortKeys {\n  ID\n  NAME @deprecated\n}\n"))
        #expect(sdl.contains("input Filter {\n  ids: [ID] = []\n}\n"))
    }

    @Test("an answer without __schema, or with a nameless type reference, is a bad-response error")
    func badAnswers() {
        #expect(throws: ShopifyError.self) { try AdminIntrospection.sdl(fromIntrospection: ["data": nil]) }
        let nameless: JSONValue = [
            "__schema": [
                "queryType": ["name": "QueryRoot"],
                "types": [["kind": "OBJECT", "name": "QueryRoot", "fields": [["name": "x", "args": [], "type": ["kind": "OBJECT"]]]]],
            ]
        ]
        #expect(throws: ShopifyError.self) { try AdminIntrospection.sdl(fromIntrospection: nameless) }
    }
}
