import JSONL
import Testing

@Suite("FieldPlan and slot extraction")
struct FieldPlanTests {
    static let orderPaths = [
        "id", "__parentId", "totalPriceSet.shopMoney.amount", "customer.id", "tags", "defaultAddress",
        "totalPriceSet.shopMoney.currencyCode", "note", "quantity", "test",
    ]
    static let plan = try! FieldPlan(paths: orderPaths, collectUnmatched: true)

    @Test("invalid paths are refused with a code")
    func invalidPaths() {
        #expect(throws: FieldPlanError(code: .emptyPath, path: "")) { try FieldPlan(paths: ["id", ""]) }
        #expect(throws: FieldPlanError(code: .emptyComponent, path: "a..b")) { try FieldPlan(paths: ["a..b"]) }
        #expect(throws: FieldPlanError(code: .emptyComponent, path: ".a")) { try FieldPlan(paths: [".a"]) }
        #expect(throws: FieldPlanError(code: .emptyComponent, path: "a.")) { try FieldPlan(paths: ["a."]) }
        #expect(throws: FieldPlanError(code: .duplicatePath, path: "a.b")) { try FieldPlan(paths: ["a.b", "x", "a.b"]) }
        let plan = try? FieldPlan(paths: ["customer", "customer.id"])
        #expect(plan?.slotCount == 2)
        #expect(plan?.slot(of: "customer.id") == 1)
    }

    @Test("an order line: scalars, nested money, null parent, tags, unmatched members")
    func orderLine() throws {
        let text = ##"""
            {"__typename":"Order","id":"gid://shopify/Order/5001","name":"#1001","tags":["vip","a\"b","caf\u00e9",null,"😀"],"totalPriceSet":{"shopMoney":{"amount":"59.8","currencyCode":"EUR"}},"customer":null,"note":"line1\nline2 \ud83d\ude00 é","quantity":-12.5e+3,"test":false,"extra":{"x":[1,2,{"y":null}]}}
            """##
        let outcome = parse(text + "\n", plan: Self.plan)
        #expect(outcome.thrown == nil)
        let line = try #require(outcome.lines.first)
        #expect(line.isObject)
        #expect(line.slots[0].kind == .string && line.slots[0].text == "gid://shopify/Order/5001")
        #expect(line.slots[1].kind == .absent)
        #expect(line.slots[2].kind == .string && line.slots[2].text == "59.8")
        #expect(line.slots[3].kind == .absent)  // customer is null: its member is absent; customer is covered
        #expect(line.slots[4].kind == .array)
        #expect(line.slots[4].text == #"["vip","a\"b","caf\u00e9",null,"😀"]"#)
        #expect(line.slots[4].elements?.map(\.kind) == [.string, .string, .string, .null, .string])
        #expect(line.slots[4].elements?.map(\.text) == ["vip", "a\"b", "café", "null", "😀"])
        #expect(line.slots[5].kind == .absent)
        #expect(line.slots[6].text == "EUR")
        #expect(line.slots[7].kind == .string && line.slots[7].text == "line1\nline2 😀 é")
        #expect(line.slots[8].kind == .number && line.slots[8].text == "-12.5e+3")
        #expect(line.slots[9].kind == .bool && line.slots[9].text == "false")
        let rest = try #require(line.unmatched)
        let restText = String(decoding: rest, as: UTF8.self)
        #expect(restText == ##"{"__typename":"Order","name":"#1001","extra":{"x":[1,2,{"y":null}]}}"##)
        #expect(try JSONValue(parsing: String(decoding: rest, as: UTF8.self))["extra"] != nil)
    }

    @Test("a prefix path gets the raw object and its member the value")
    func prefixPaths() throws {
        let plan = try FieldPlan(paths: ["customer", "customer.id", "customer.addr.city"], collectUnmatched: true)
        let outcome = parse(#"{"customer": {"id" : 7, "addr":{"city":"K\u00f6ln"}, "other":[]} , "z":1}"#, plan: plan)
        let line = try #require(outcome.lines.first)
        #expect(line.slots[0].kind == .object)
        #expect(line.slots[0].text == #"{"id" : 7, "addr":{"city":"K\u00f6ln"}, "other":[]}"#)
        #expect(line.slots[1].kind == .number && line.slots[1].text == "7")
        #expect(line.slots[2].text == "Köln")
        #expect(line.unmatched.map { String(decoding: $0, as: UTF8.self) } == #"{"z":1}"#)
    }

    @Test("keys written with escapes match; raw key text is kept in the unmatched object")
    func escapedKeys() throws {
        let outcome = parse(#"{"\u0069d":"x","n\u00e4me":"y"}"#, plan: Self.plan)
        let line = try #require(outcome.lines.first)
        #expect(line.slots[0].text == "x")
        #expect(line.unmatched.map { String(decoding: $0, as: UTF8.self) } == #"{"n\u00e4me":"y"}"#)
    }

    @Test("the last of duplicate members wins; both are kept in the unmatched object")
    func duplicates() throws {
        let outcome = parse(#"{"id":"a","x":1,"id":"b","x":2}"#, plan: Self.plan)
        let line = try #require(outcome.lines.first)
        #expect(line.slots[0].text == "b")
        #expect(line.unmatched.map { String(decoding: $0, as: UTF8.self) } == #"{"x":1,"x":2}"#)
    }

    @Test("a line that is not an object leaves every slot absent")
    func nonObjectLines() {
        let outcome = parse("[{\"id\":1}]\n\"id\"\n{}\n", plan: Self.plan)
        #expect(outcome.lines.count == 3)
        #expect(outcome.lines.allSatisfy { $0.slots.allSatisfy { $0.kind == .absent } })
        #expect(outcome.lines.map(\.isObject) == [false, false, true])
        #expect(outcome.lines.map { $0.unmatched.map { String(decoding: $0, as: UTF8.self) } } == [nil, nil, "{}"])
    }

    @Test("a path through an array or a scalar stays absent")
    func pathThroughNonObject() throws {
        let plan = try FieldPlan(paths: ["a.b", "c.d"])
        let outcome = parse(#"{"a":[{"b":1}],"c":"d"}"#, plan: plan)
        let line = try #require(outcome.lines.first)
        #expect(line.slots.map(\.kind) == [.absent, .absent])
        #expect(line.unmatched == nil)
    }

    @Test("strings: empty, escapes of every kind, NUL, astral characters, raw UTF-8")
    func strings() throws {
        let plan = try FieldPlan(paths: ["s"])
        let cases: [(String, String)] = [
            (#""""#, ""),
            (#""\"\\\/\b\f\n\r\t""#, "\"\\/\u{8}\u{c}\n\r\t"),
            (#""\u0000""#, "\u{0}"),
            (#""\uD834\uDD1E""#, "𝄞"),
            (#""\uffff\u07FF\u0080""#, "\u{ffff}\u{7ff}\u{80}"),
            (#""Grüße, 東京, 𝄞""#, "Grüße, 東京, 𝄞"),
            (#""0123456789abcdef0123456789abcdef\n""#, "0123456789abcdef0123456789abcdef\n"),
        ]
        for (json, expected) in cases {
            let line = try #require(parse("{\"s\":\(json)}", plan: plan).lines.first)
            #expect(line.slots[0].kind == .string)
            #expect(line.slots[0].bytes == Array(expected.utf8), "\(json)")
        }
    }

    @Test("forEachElement of an array slot")
    func elements() throws {
        let plan = try FieldPlan(paths: ["tags"])
        let line = try #require(
            parse(#"{"tags":[ 1 , -2.5e3, true,false,null, "x\u0041" ,[1,["]"]],{"a":"}"}, "" ]}"#, plan: plan).lines.first)
        let elements = try #require(line.slots[0].elements)
        #expect(elements.map(\.kind) == [.number, .number, .bool, .bool, .null, .string, .array, .object, .string])
        #expect(elements.map(\.text) == ["1", "-2.5e3", "true", "false", "null", "xA", #"[1,["]"]]"#, #"{"a":"}"}"#, ""])
        let empty = try #require(parse(#"{"tags":[ ]}"#, plan: plan).lines.first)
        #expect(empty.slots[0].elements == [])
    }
}
