/// A string as a JSON string literal, which is also a GraphQL string literal: quotes, backslashes and
/// control characters escaped (and DEL, U+2028 and U+2029, which some readers take for line ends), so
/// that no value can end the literal early or break a line. The one for JSON and GraphQL text (COPY text has its own, in RowEncoder).
public enum JSONString {
    public static func quoted(_ s: String) -> String {
        var out = ""
        write(s, to: &out)
        return out
    }

    public static func write(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || scalar == "\u{2028}" || scalar == "\u{2029}" {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
