import Foundation

/// `{{…}}` placeholders inside a connection's `query:` search string.
///
/// - `{{window}}`: the whole window filter (`updated_at:>='…' AND updated_at:<'…'`), or nothing.
/// - `{{updated_since}}`, `{{updated_before}}`, `{{created_since}}`, `{{created_before}}`: one bound
///   of a window on that field, as a single-quoted timestamp (`'2025-06-01T00:00:00Z'`).
/// - `{{var:NAME}}`: a caller-supplied value, always inserted single-quoted with `\` and `'` escaped.
enum SearchTemplate: Sendable, Equatable {
    case window
    case bound(field: String, isStart: Bool)
    case variable(String)

    enum Piece: Sendable, Equatable {
        case text(String)
        case template(SearchTemplate, raw: String, offset: Int)
    }

    static let names = "{{window}}, {{updated_since}}, {{updated_before}}, {{created_since}}, {{created_before}}, {{var:NAME}}"

    struct ParseError: Error, Sendable {
        var message: String
        /// Offset (in characters) inside the string where the problem starts.
        var offset: Int
    }

    /// Splits a string into text and templates.
    static func pieces(_ s: String) -> Result<[Piece], ParseError> {
        var pieces: [Piece] = []
        var rest = Substring(s)
        var offset = 0
        while let open = rest.range(of: "{{") {
            let before = rest[..<open.lowerBound]
            if let stray = before.range(of: "}}") {
                return .failure(
                    ParseError(
                        message: "'}}' without '{{'", offset: offset + before.distance(from: before.startIndex, to: stray.lowerBound)))
            }
            if !before.isEmpty { pieces.append(.text(String(before))) }
            offset += before.count
            let afterOpen = rest[open.upperBound...]
            guard let close = afterOpen.range(of: "}}") else {
                return .failure(ParseError(message: "'{{' is not closed with '}}'", offset: offset))
            }
            let inner = String(afterOpen[..<close.lowerBound])
            let raw = "{{" + inner + "}}"
            let name = inner.trimmingCharacters(in: .whitespaces)
            let template: SearchTemplate
            switch name {
            case "window": template = .window
            case "updated_since": template = .bound(field: "updated_at", isStart: true)
            case "updated_before": template = .bound(field: "updated_at", isStart: false)
            case "created_since": template = .bound(field: "created_at", isStart: true)
            case "created_before": template = .bound(field: "created_at", isStart: false)
            default:
                if name.hasPrefix("var:") {
                    let variable = String(name.dropFirst(4)).trimmingCharacters(in: .whitespaces)
                    guard isVariableName(variable) else {
                        return .failure(
                            ParseError(
                                message: "'\(raw)': a variable name is letters, digits and _, starting with a letter or _", offset: offset))
                    }
                    template = .variable(variable)
                } else {
                    return .failure(ParseError(message: "unknown template \(raw); known templates are \(names)", offset: offset))
                }
            }
            pieces.append(.template(template, raw: raw, offset: offset))
            offset += raw.count
            rest = afterOpen[close.upperBound...]
        }
        if let stray = rest.range(of: "}}") {
            return .failure(
                ParseError(message: "'}}' without '{{'", offset: offset + rest.distance(from: rest.startIndex, to: stray.lowerBound)))
        }
        if !rest.isEmpty { pieces.append(.text(String(rest))) }
        return .success(pieces)
    }

    /// Templates that a window fills.
    var usesWindow: Bool {
        switch self {
        case .window, .bound: return true
        case .variable: return false
        }
    }

    static func isVariableName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first == "_" || ("a"..."z").contains(first) || ("A"..."Z").contains(first) else {
            return false
        }
        return s.unicodeScalars.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
    }

    /// A value as a single-quoted search-syntax string: `\` and `'` are escaped, so the value cannot
    /// end the quoted term. Control characters are refused.
    static func quotedSearchValue(_ value: String) -> String? {
        var out = "'"
        for scalar in value.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F { return nil }
            if scalar == "\\" || scalar == "'" { out += "\\" }
            out.unicodeScalars.append(scalar)
        }
        return out + "'"
    }

    /// Fills the templates of one search string. Returns nil when nothing is left (the `query:`
    /// argument is then removed).
    static func fill(
        _ pieces: [Piece], window: QueryWindow?, variables: [String: String]
    ) -> Result<String?, ParseError> {
        var parts: [String] = []
        // Whether a part came from an empty {{window}} (then its neighbouring AND/OR goes too).
        var emptyWindowAt: [Int] = []
        for piece in pieces {
            switch piece {
            case .text(let t):
                parts.append(t)
            case .template(let template, let raw, let offset):
                switch template {
                case .window:
                    if let filter = window?.searchFilter {
                        parts.append(filter)
                    } else {
                        emptyWindowAt.append(parts.count)
                        parts.append("")
                    }
                case .bound(let field, let isStart):
                    guard let window else {
                        return .failure(ParseError(message: "\(raw) needs a window on \(field), but none was given", offset: offset))
                    }
                    guard window.field == field else {
                        return .failure(
                            ParseError(message: "\(raw) needs a window on \(field), but the window is on \(window.field)", offset: offset))
                    }
                    guard let date = isStart ? window.start : window.end else {
                        return .failure(
                            ParseError(
                                message: "\(raw) needs the window's \(isStart ? "start" : "end"), which was not given", offset: offset))
                    }
                    parts.append(QueryWindow.quoted(date, roundingUp: !isStart))
                case .variable(let name):
                    guard let value = variables[name] else {
                        let known = variables.keys.sorted()
                        return .failure(
                            ParseError(
                                message: "\(raw) has no value (given: \(known.isEmpty ? "none" : known.joined(separator: ", ")))",
                                offset: offset))
                    }
                    guard let quoted = quotedSearchValue(value) else {
                        return .failure(ParseError(message: "the value of \(raw) contains a control character", offset: offset))
                    }
                    parts.append(quoted)
                }
            }
        }
        // Remove the connective next to an empty {{window}}: "status:open AND {{window}}" → "status:open".
        for index in emptyWindowAt {
            let before = index > 0 ? parts[index - 1] : ""
            if let trimmed = dropConnective(atEndOf: before) {
                parts[index - 1] = trimmed
            } else if index + 1 < parts.count, let trimmed = dropConnective(atStartOf: parts[index + 1]) {
                parts[index + 1] = " " + trimmed
            }
        }
        let result = parts.joined().trimmingCharacters(in: .whitespacesAndNewlines)
        return .success(result.isEmpty ? nil : result)
    }

    static func dropConnective(atEndOf s: String) -> String? {
        let t = s.trimmingCharacters(in: .whitespacesAndNewlines)
        for word in ["AND", "OR"] where t.hasSuffix(" " + word) || t == word {
            return String(t.dropLast(word.count)).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    static func dropConnective(atStartOf s: String) -> String? {
        let t = s.trimmingCharacters(in: .whitespacesAndNewlines)
        for word in ["AND", "OR"] where t.hasPrefix(word + " ") || t == word {
            return String(t.dropFirst(word.count)).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }
}
