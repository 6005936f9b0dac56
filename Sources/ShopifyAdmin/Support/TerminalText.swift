/// Text from outside (customer data, a server's messages) made safe to print on a terminal: C0 and C1
/// control characters, DEL, line and paragraph separators and the bidirectional formatting characters
/// are replaced by visible escapes (`\x1b`, `\n`, `\u{202E}`), so that a value can neither send
/// terminal commands (clear the screen, set the title), nor start a forged line, nor reorder what
/// follows it. Everything else, backslashes included, is kept as it is. Machine output (`--json`) is
/// never escaped this way.
public enum TerminalText {
    /// Whether `scalar` is escaped.
    public static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: return true
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true  // bidi formatting
        case 0x2028, 0x2029: return true  // line and paragraph separators
        default: return false
        }
    }

    /// `text` with every character of `needsEscape` replaced by its visible escape; with
    /// `keepingNewlines`, `\n` stays a line break (for multi-line messages shopbulk writes itself).
    public static func escape<S: StringProtocol>(_ text: S, keepingNewlines: Bool = false) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return String(text) }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            guard needsEscape(scalar) else {
                out.append(scalar)
                continue
            }
            let escaped: String
            switch scalar {
            case "\n": escaped = keepingNewlines ? "\n" : "\\n"
            case "\r": escaped = "\\r"
            case "\t": escaped = "\\t"
            default:
                let hex = String(scalar.value, radix: 16)
                escaped = scalar.value <= 0xFF ? "\\x" + (hex.count < 2 ? "0" + hex : hex) : "\\u{" + hex.uppercased() + "}"
            }
            out.append(contentsOf: escaped.unicodeScalars)
        }
        return String(out)
    }
}

extension StringProtocol {
    /// This text with control characters and bidi overrides escaped visibly (see `TerminalText`).
    public var visiblyEscaped: String { TerminalText.escape(self) }

    func leftPadded(to width: Int) -> String {
        count >= width ? String(self) : String(repeating: "0", count: width - count) + self
    }
}
