import JSONL
import Testing

@Suite("JSONLParser streaming behaviour")
struct JSONLParserTests {
    @Test("line numbers, byte offsets, CRLF, blank lines and a last line without newline")
    func framing() {
        let text = "{\"a\":1}\r\n\n  \r\n[2]\n\t\n\"last\""
        let outcome = parse(text)
        #expect(outcome.thrown == nil)
        #expect(outcome.lines.map(\.number) == [1, 4, 6])
        #expect(outcome.lines.map(\.byteOffset) == [0, 14, 20])
        #expect(outcome.lines.map { String(decoding: $0.bytes, as: UTF8.self) } == ["{\"a\":1}", "[2]", "\"last\""])
        #expect(outcome.linesRead == 6)
        #expect(parse("{}\n").linesRead == 1)
        #expect(parse("").lines.isEmpty)
    }

    @Test("an invalid line throws with line, column, byte offset and reason")
    func failPolicy() throws {
        let text = "{\"a\":1}\n{\"b\":2}\n{\"c\":tru}\n{\"d\":4}\n"
        for cuts in [[], Array(0..<text.utf8.count)] {
            let outcome = parse(text, cuts: cuts)
            #expect(outcome.lines.count == 2)
            let error = try #require(outcome.thrown)
            #expect(error.code == .invalidLiteral)
            #expect(error.line == 3)
            #expect(error.column == 6)
            #expect(error.lineByteOffset == 16)
            #expect(error.byteOffset == 21)
            #expect(error.description == "JSONL line 3, column 6 (byte offset 21): invalid literal (expected true, false or null)")
        }
    }

    @Test("with .report invalid lines reach the handler and parsing goes on")
    func reportPolicy() throws {
        let plan = try FieldPlan(paths: ["a"], collectUnmatched: true)
        let text = "{\"a\":1}\n{\"a\":\"\u{1}\"}\n{\"a\":3,}\n{\"a\":4}"
        let outcome = parse(text, plan: plan, options: .init(invalidLines: .report))
        #expect(outcome.thrown == nil)
        #expect(outcome.lines.map { $0.error?.code } == [nil, .controlCharacterInString, .unexpectedCharacter, nil])
        #expect(outcome.lines[1].error?.column == 7)
        #expect(outcome.lines[1].slots[0].kind == .absent)
        #expect(outcome.lines[1].unmatched == nil)
        #expect(String(decoding: outcome.lines[2].bytes, as: UTF8.self) == "{\"a\":3,}")
        #expect(outcome.lines[3].slots[0].text == "4")
    }

    @Test("a line longer than maxLineLength is an error, whatever the chunking")
    func tooLong() {
        let text = "[1]\n[\"0123456789\"]\n[22]\n[\"0123456789\"]"
        let options = JSONLParser.Options(maxLineLength: 8, invalidLines: .report)
        let whole = parse(text, options: options)
        #expect(whole.lines.map { $0.error?.code } == [nil, .lineTooLong, nil, .lineTooLong])
        #expect(whole.lines[1].error == JSONLError(code: .lineTooLong, line: 2, column: 9, lineByteOffset: 4))
        #expect(whole.lines[1].bytes.isEmpty)
        for step in 1...7 {
            #expect(parse(text, options: options, cuts: Array(stride(from: step, to: text.utf8.count, by: step))) == whole)
        }
        let failing = parse(text, options: .init(maxLineLength: 8), cuts: [6])
        #expect(failing.thrown?.code == .lineTooLong)
        #expect(failing.lines.count == 1)
        // Exactly at the limit is fine.
        #expect(parse("[\"12345\"]\r\n", options: .init(maxLineLength: 10)).thrown == nil)
    }

    @Test("nesting deeper than maxDepth is an error, never a stack overflow")
    func depth() {
        let deep = String(repeating: "[", count: 1_000_000) + String(repeating: "]", count: 1_000_000)
        #expect(parse(deep).thrown?.code == .tooDeep)
        #expect(parse(deep).thrown?.column == 513)
        let ok = String(repeating: "{\"a\":", count: 40) + "1" + String(repeating: "}", count: 40)
        #expect(parse(ok, options: .init(maxDepth: 40)).thrown == nil)
        #expect(parse(ok, options: .init(maxDepth: 39)).thrown?.code == .tooDeep)
        #expect(parse(deep, options: .init(maxDepth: 1 << 20)).thrown == nil)
    }

    @Test("invalid UTF-8 is rejected, also when split across chunks")
    func utf8() {
        let bad: [[UInt8]] = [
            [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x9F, 0x80], [0xED, 0xA0, 0x80], [0xF0, 0x8F, 0xBF, 0xBF],
            [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0x80], [0xBF], [0xE2, 0x82], [0xFF],
        ]
        for sequence in bad {
            let line: [UInt8] = Array("[\"ab".utf8) + sequence + Array("cd\"]\n".utf8)
            #expect(parse(line).thrown?.code == .invalidUTF8, "\(sequence)")
            #expect(parse(line, cuts: Array(0..<line.count)).thrown?.code == .invalidUTF8, "\(sequence)")
        }
        let good: [[UInt8]] = [
            [0xC2, 0x80], [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF], [0xEE, 0x80, 0x80], [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF],
        ]
        for sequence in good {
            let line: [UInt8] = Array("[\"ab".utf8) + sequence + Array("cd\"]\n".utf8)
            #expect(parse(line, cuts: Array(0..<line.count)).thrown == nil, "\(sequence)")
        }
    }

    @Test("after a thrown error the parser refuses to go on")
    func poisoned() {
        var parser = JSONLParser()
        var thrown: (any Error)?
        "nope\n{}\n".utf8.withContiguousStorageIfAvailable { bytes in
            do { try parser.feed(UnsafeRawBufferPointer(bytes)) { _ in } } catch { thrown = error }
            #expect((thrown as? JSONLError)?.code == .invalidLiteral)
            #expect(throws: JSONLError.self) { try parser.feed(UnsafeRawBufferPointer(bytes)) { _ in } }
        }
    }

    @Test("handler errors propagate")
    func handlerErrors() {
        struct Stop: Error {}
        var parser = JSONLParser()
        "{}\n{}\n".utf8.withContiguousStorageIfAvailable { bytes in
            var seen = 0
            #expect(throws: Stop.self) {
                try parser.feed(UnsafeRawBufferPointer(bytes)) { line in
                    seen += 1
                    if line.number == 2 { throw Stop() }
                }
            }
            #expect(seen == 2)
        }
    }

    @Test("a copied parser is independent (copy on write)")
    func copies() throws {
        var a = JSONLParser()
        var linesA: [Int] = []
        var linesB: [Int] = []
        try Array("[1]\n[2".utf8).withUnsafeBytes { try a.feed($0) { linesA.append($0.number) } }
        var b = a
        try Array("]\n".utf8).withUnsafeBytes { try a.feed($0) { linesA.append($0.number) } }
        try Array("3]\n".utf8).withUnsafeBytes {
            try b.feed($0) { line in
                linesB.append(line.number)
                #expect(String(decoding: line.bytes, as: UTF8.self) == "[23]")
            }
        }
        #expect(linesA == [1, 2])
        #expect(linesB == [2])
    }

    @Test("JSONValue trees and the line view")
    func values() throws {
        let value = try JSONValue(parsing: " {\"a\" : [1, -0.5e-3, \"x\\u00e9\", true, false, null, {}], \"b\":{\"c\":[]}}\n")
        #expect(
            value
                == .object([
                    .init("a", .array([.number("1"), .number("-0.5e-3"), .string("xé"), .bool(true), .bool(false), .null, .object([])])),
                    .init("b", .object([.init("c", .array([]))])),
                ]))
        #expect(value.jsonText == #"{"a":[1,-0.5e-3,"xé",true,false,null,{}],"b":{"c":[]}}"#)
        #expect(throws: JSONLError.self) { try JSONValue(parsing: "[1,]") }
        let error = #expect(throws: JSONLError.self) { try JSONValue(parsing: "[1,\n  2,\n  x]") }
        #expect(error?.line == 3 && error?.column == 3 && error?.byteOffset == 11)
        var seen: JSONValue?
        try Array("{\"k\":[1]}\n".utf8).withUnsafeBytes { buffer in
            var parser = JSONLParser()
            try parser.feed(buffer) { seen = $0.value() }
        }
        #expect(seen == .object([.init("k", .array([.number("1")]))]))
    }
}
