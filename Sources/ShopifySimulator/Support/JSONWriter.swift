import Foundation

/// Appends JSON text to a byte buffer; the simulator's only JSON producer.
///
/// Objects are written in field order (the order the GraphQL selection asked for), which is what
/// Shopify does and what a plain `[String: Any]` encoder could not guarantee.
struct JSONWriter {
    var bytes: [UInt8] = []
    /// One entry per open container: whether a value has been written into it yet.
    private var needsComma: [Bool] = []

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    var count: Int { bytes.count }
    var string: String { String(decoding: bytes, as: UTF8.self) }
    var data: Data { Data(bytes) }

    mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        needsComma.removeAll(keepingCapacity: true)
        pendingKey = false
    }

    // MARK: structure

    private mutating func separator() {
        if let last = needsComma.last {
            if last { bytes.append(UInt8(ascii: ",")) } else { needsComma[needsComma.count - 1] = true }
        }
    }

    mutating func beginObject() { valuePrefix(); bytes.append(UInt8(ascii: "{")); needsComma.append(false) }
    mutating func endObject() { needsComma.removeLast(); bytes.append(UInt8(ascii: "}")) }
    mutating func beginArray() { valuePrefix(); bytes.append(UInt8(ascii: "[")); needsComma.append(false) }
    mutating func endArray() { needsComma.removeLast(); bytes.append(UInt8(ascii: "]")) }

    /// Writes `"key":`; the next value call writes the value without a separator.
    mutating func key(_ key: String) {
        separator()
        JSONWriter.appendEscaped(key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        pendingKey = true
    }

    private var pendingKey = false

    private mutating func valuePrefix() {
        if pendingKey {
            pendingKey = false
        } else {
            separator()
        }
    }

    mutating func null() { valuePrefix(); bytes.append(contentsOf: JSONWriter.nullBytes) }
    mutating func bool(_ v: Bool) { valuePrefix(); bytes.append(contentsOf: v ? JSONWriter.trueBytes : JSONWriter.falseBytes) }
    mutating func int(_ v: Int) { valuePrefix(); JSONWriter.appendInt(v, to: &bytes) }
    mutating func double(_ v: Double) {
        valuePrefix()
        if v.isFinite, v == v.rounded(), abs(v) < 1e15 {
            JSONWriter.appendInt(Int(v), to: &bytes); bytes.append(contentsOf: [UInt8(ascii: "."), UInt8(ascii: "0")])
        } else {
            bytes.append(contentsOf: Array("\(v)".utf8))
        }
    }
    mutating func string(_ v: String) { valuePrefix(); JSONWriter.appendEscaped(v, to: &bytes) }
    mutating func string(_ v: String?) { if let v { string(v) } else { null() } }
    /// Writes pre-encoded JSON (a whole value) verbatim.
    mutating func raw(_ encoded: [UInt8]) { valuePrefix(); bytes.append(contentsOf: encoded) }

    // value-first helpers for object bodies
    mutating func field(_ k: String, _ v: String?) { key(k); string(v) }
    mutating func field(_ k: String, _ v: Int) { key(k); int(v) }
    mutating func field(_ k: String, _ v: Bool) { key(k); bool(v) }

    // MARK: encoding primitives

    static let nullBytes: [UInt8] = Array("null".utf8)
    static let trueBytes: [UInt8] = Array("true".utf8)
    static let falseBytes: [UInt8] = Array("false".utf8)
    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    static func appendInt(_ value: Int, to out: inout [UInt8]) {
        if value == 0 { out.append(UInt8(ascii: "0")); return }
        var v = value.magnitude
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var tmp:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &tmp) { buf in
            while v > 0 { buf[n] = UInt8(truncatingIfNeeded: v % 10) + 48; v /= 10; n += 1 }
            for i in stride(from: n - 1, through: 0, by: -1) { out.append(buf[i]) }
        }
    }

    /// Appends `s` as a JSON string literal: quotes, backslashes and control characters escaped;
    /// U+2028/U+2029 escaped too, as Shopify's (and most JS-safe) encoders do.
    static func appendEscaped(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { utf8 in
            var i = 0
            let n = utf8.count
            while i < n {
                let b = utf8[i]
                switch b {
                case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(b)
                case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(b)
                case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
                case 0x08: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "b"))
                case 0x0C: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "f"))
                case 0..<0x20, 0x7F:
                    out.append(contentsOf: [
                        UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                        hex[Int(b >> 4)], hex[Int(b & 0xF)],
                    ])
                case 0xE2 where i + 2 < n && utf8[i + 1] == 0x80 && (utf8[i + 2] == 0xA8 || utf8[i + 2] == 0xA9):
                    out.append(contentsOf: Array("\\u202".utf8))
                    out.append(utf8[i + 2] == 0xA8 ? UInt8(ascii: "8") : UInt8(ascii: "9"))
                    i += 2
                default: out.append(b)
                }
                i += 1
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    static func escaped(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        appendEscaped(s, to: &out)
        return out
    }
}

/// A parsed JSON value (request bodies only; not a hot path). Decoding keeps booleans and
/// numbers apart, which `JSONSerialization`'s `NSNumber`s do not on Linux.
enum JSONValue: Decodable, Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let i = try? c.decode(Int.self) { self = .int(i); return }
        if let d = try? c.decode(Double.self) { self = .double(d); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let a = try? c.decode([JSONValue].self) { self = .array(a); return }
        self = .object(try c.decode([String: JSONValue].self))
    }

    static func parse(_ data: Data) -> JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: data) }

    subscript(key: String) -> JSONValue? { if case .object(let o) = self { return o[key] }; return nil }
    var string: String? { if case .string(let s) = self { return s }; return nil }
    var int: Int? {
        switch self {
        case .int(let i): return i
        case .double(let d): return Int(d)
        case .string(let s): return Int(s)
        default: return nil
        }
    }
    var double: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .string(let s): return Double(s)
        default: return nil
        }
    }
    var bool: Bool? {
        switch self {
        case .bool(let b): return b
        case .string(let s): return s == "true" ? true : (s == "false" ? false : nil)
        default: return nil
        }
    }
    var array: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    var object: [String: JSONValue]? { if case .object(let o) = self { return o }; return nil }
    var strings: [String]? { array?.compactMap(\.string) }
}
