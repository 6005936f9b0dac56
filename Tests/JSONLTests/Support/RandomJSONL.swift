import JSONL

/// A generated JSON value together with the exact text written for it.
indirect enum GenValue {
    case scalar(kind: JSONLField.Kind, text: String, expected: [UInt8])
    case array([GenValue], text: String)
    case object([(key: String, keyText: String, value: GenValue)], text: String)

    var text: String {
        switch self {
        case .scalar(_, let text, _), .array(_, let text), .object(_, let text): text
        }
    }

    /// What a slot holding this value should contain.
    var expectedSlot: LineSnapshot.Slot {
        switch self {
        case .scalar(let kind, _, let expected): .init(kind: kind, bytes: expected, elements: nil)
        case .array(let elements, let text):
            .init(
                kind: .array, bytes: Array(text.utf8),
                elements: elements.map { element in
                    var slot = element.expectedSlot
                    slot.elements = nil
                    if case .array = element { slot.elements = nil }
                    return slot
                })
        case .object(_, let text): .init(kind: .object, bytes: Array(text.utf8), elements: nil)
        }
    }

    /// The value at a dot path (last duplicate wins), if every step is an object member.
    func lookup(_ path: [Substring]) -> GenValue? {
        guard let first = path.first else { return self }
        guard case .object(let members, _) = self,
            let member = members.last(where: { $0.key == first })
        else { return nil }
        return member.value.lookup(Array(path.dropFirst()))
    }
}

/// Random JSON text with random whitespace, escapes, non-ASCII and nesting.
struct JSONGenerator {
    var rng: SeededRNG
    var keyPool = ["id", "__parentId", "customer", "totalPriceSet", "shopMoney", "amount", "tags", "x", "é", "a\"b", "", "emoji😀", "note"]

    init(seed: UInt64) { rng = SeededRNG(seed: seed) }

    mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &rng) < percent }

    mutating func whitespace() -> String {
        guard chance(20) else { return "" }
        return String((0..<Int.random(in: 1...3, using: &rng)).map { _ in [" ", "\t", "\r"].randomElement(using: &rng)! })
    }

    mutating func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: chance(50))
        return String(repeating: "0", count: 4 - digits.count) + digits
    }

    /// A string literal and its unescaped UTF-8.
    mutating func string() -> (text: String, value: String) {
        let pool: [Unicode.Scalar] = [
            "a", "b", "Z", "0", " ", "/", "\"", "\\", "\n", "\t", "\u{1}", "\u{1F}", "\u{7F}", "é", "ß", "東",
            "😀", "𝄞", "\u{FFFF}", "\u{80}", "\u{7FF}", "\u{10FFFF}", "\u{0}",
        ]
        var text = "\""
        var value = ""
        let length = chance(20) ? Int.random(in: 8...40, using: &rng) : Int.random(in: 0...6, using: &rng)
        for _ in 0..<length {
            let scalar = chance(60) ? Unicode.Scalar(UInt8.random(in: 0x61...0x7A, using: &rng)) : pool.randomElement(using: &rng)!
            value.unicodeScalars.append(scalar)
            let mustEscape = scalar == "\"" || scalar == "\\" || scalar.value < 0x20
            switch (mustEscape, Int.random(in: 0..<4, using: &rng)) {
            case (false, 0), (false, 1), (false, 2):
                text.unicodeScalars.append(scalar)
            default:
                let short: String? =
                    switch scalar {
                    case "\"": "\\\""
                    case "\\": "\\\\"
                    case "/": "\\/"
                    case "\n": "\\n"
                    case "\t": "\\t"
                    case "\u{8}": "\\b"
                    case "\u{C}": "\\f"
                    case "\r": "\\r"
                    default: nil
                    }
                if let short, chance(50) {
                    text += short
                } else if scalar.value >= 0x10000 {
                    let v = scalar.value - 0x10000
                    text += "\\u" + hex(0xD800 + (v >> 10)) + "\\u" + hex(0xDC00 + (v & 0x3FF))
                } else {
                    text += "\\u" + hex(scalar.value)
                }
            }
        }
        text += "\""
        return (text, value)
    }

    mutating func number() -> String {
        var text = chance(30) ? "-" : ""
        if chance(20) {
            text += "0"
        } else {
            text += String(Int.random(in: 1...9, using: &rng))
            for _ in 0..<Int.random(in: 0...25, using: &rng) { text += String(Int.random(in: 0...9, using: &rng)) }
        }
        if chance(30) {
            text += "."
            for _ in 0..<Int.random(in: 1...5, using: &rng) { text += String(Int.random(in: 0...9, using: &rng)) }
        }
        if chance(20) {
            text += ["e", "E"].randomElement(using: &rng)! + ["", "+", "-"].randomElement(using: &rng)!
            for _ in 0..<Int.random(in: 1...4, using: &rng) { text += String(Int.random(in: 0...9, using: &rng)) }
        }
        return text
    }

    mutating func key() -> (key: String, text: String) {
        let key = keyPool.randomElement(using: &rng)!
        // Write it with escapes now and then: the parser must match the unescaped key.
        var text = "\""
        for scalar in key.unicodeScalars {
            if scalar == "\"" {
                text += "\\\""
            } else if chance(15) {
                text += scalar.value >= 0x10000 ? String(scalar) : "\\u" + hex(scalar.value)
            } else {
                text.unicodeScalars.append(scalar)
            }
        }
        return (key, text + "\"")
    }

    mutating func value(depth: Int, uniqueKeys: Bool) -> GenValue {
        let pick = Int.random(in: 0..<(depth >= 5 ? 6 : 9), using: &rng)
        switch pick {
        case 0: return .scalar(kind: .null, text: "null", expected: Array("null".utf8))
        case 1:
            let b = chance(50) ? "true" : "false"
            return .scalar(kind: .bool, text: b, expected: Array(b.utf8))
        case 2, 3:
            let n = number()
            return .scalar(kind: .number, text: n, expected: Array(n.utf8))
        case 4, 5:
            let s = string()
            return .scalar(kind: .string, text: s.text, expected: Array(s.value.utf8))
        case 6:
            var elements: [GenValue] = []
            var text = "[" + whitespace()
            for k in 0..<Int.random(in: 0...4, using: &rng) {
                if k > 0 { text += whitespace() + "," + whitespace() }
                let element = value(depth: depth + 1, uniqueKeys: uniqueKeys)
                elements.append(element)
                text += element.text
            }
            text += whitespace() + "]"
            return .array(elements, text: text)
        default:
            return object(depth: depth, uniqueKeys: uniqueKeys)
        }
    }

    mutating func object(depth: Int, uniqueKeys: Bool) -> GenValue {
        var members: [(key: String, keyText: String, value: GenValue)] = []
        var text = "{" + whitespace()
        for _ in 0..<Int.random(in: 0...(depth == 0 ? 9 : 4), using: &rng) {
            let (key, keyText) = key()
            if uniqueKeys && members.contains(where: { $0.key == key }) { continue }
            if !members.isEmpty { text += whitespace() + "," + whitespace() }
            let member = value(depth: depth + 1, uniqueKeys: uniqueKeys)
            members.append((key, keyText, member))
            text += keyText + whitespace() + ":" + whitespace() + member.text
        }
        text += whitespace() + "}"
        return .object(members, text: text)
    }
}

/// One generated line and, when it was left intact, its value.
struct GeneratedLine {
    var bytes: [UInt8]
    var value: GenValue?
    var terminator: String
}

extension JSONGenerator {
    /// A random JSONL file: object lines mostly, some other values, blank lines, CRLF, corrupted
    /// lines, sometimes no final newline.
    mutating func file(lines count: Int, uniqueKeys: Bool, corrupt: Bool) -> [GeneratedLine] {
        var lines: [GeneratedLine] = []
        for index in 0..<count {
            var line: GeneratedLine
            if chance(8) {
                line = GeneratedLine(bytes: Array(whitespace().utf8), value: nil, terminator: "\n")
            } else {
                let value = chance(85) ? object(depth: 0, uniqueKeys: uniqueKeys) : self.value(depth: 1, uniqueKeys: uniqueKeys)
                let text = whitespace() + value.text + whitespace()
                line = GeneratedLine(bytes: Array(text.utf8), value: value, terminator: "\n")
                if corrupt && chance(15) && !line.bytes.isEmpty {
                    line.value = nil
                    let at = Int.random(in: 0..<line.bytes.count, using: &rng)
                    switch Int.random(in: 0..<4, using: &rng) {
                    case 0: line.bytes.removeSubrange(at...)
                    case 1:
                        line.bytes.insert([0x80, 0xC0, 0xFF, 0xED, 0x22, 0x5C, 0x2C, 0x7D, 0x5D, 0x01].randomElement(using: &rng)!, at: at)
                    case 2: line.bytes.remove(at: at)
                    default: line.bytes[at] = UInt8.random(in: 0...255, using: &rng) == 0x0A ? 0x20 : line.bytes[at] ^ 0x01
                    }
                    line.bytes.removeAll { $0 == 0x0A }
                }
            }
            line.terminator = chance(20) ? "\r\n" : "\n"
            if index == count - 1 && chance(30) { line.terminator = "" }
            lines.append(line)
        }
        return lines
    }
}

func joined(_ lines: [GeneratedLine]) -> [UInt8] {
    lines.flatMap { $0.bytes + Array($0.terminator.utf8) }
}
