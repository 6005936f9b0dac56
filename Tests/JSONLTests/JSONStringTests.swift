import Foundation
import Testing

@testable import JSONL

@Suite("JSONString: the one string-literal escaper (JSON and GraphQL)")
struct JSONStringTests {
    @Test("each kind of character that could end or break a literal is escaped")
    func escapes() {
        #expect(JSONString.quoted("a\"b\\c") == #""a\"b\\c""#)
        #expect(JSONString.quoted("\n\r\t\u{08}\u{0C}") == #""\n\r\t\b\f""#)
        #expect(JSONString.quoted("\u{1B}[2J\u{7F}") == #""\u001b[2J\u007f""#)
        #expect(JSONString.quoted("x\u{2028}y\u{2029}") == #""x\u2028y\u2029""#)
        #expect(JSONString.quoted("é 🛒 ok") == "\"é 🛒 ok\"")
    }

    @Test("what it writes reads back as the same string, through our parser and Foundation's")
    func roundTrip() throws {
        let samples = ["", "plain", "quote \" and \\ backslash", "\u{0}\u{1}\u{1F}\u{7F}", "line\u{2028}sep", "Zoë 🧾 \u{202E}rtl"]
        for s in samples {
            let literal = JSONString.quoted(s)
            #expect(try JSONValue(parsing: literal) == .string(s), "\(literal)")
            let foundation = try JSONSerialization.jsonObject(with: Data(literal.utf8), options: [.fragmentsAllowed]) as? String
            #expect(foundation == s, "\(literal)")
        }
    }
}
