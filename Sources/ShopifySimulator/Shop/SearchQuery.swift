/// Shopify's search syntax, the subset the simulator filters on: `field:value`, comparators
/// `:>`, `:>=`, `:<`, `:<=`, single- or double-quoted values, `AND` (also implicit), `OR`.
///
/// Filters on `updated_at`, `created_at` (customers also accept `customer_date`), `id`,
/// `status` and `operation_type` (for `bulkOperations`) are applied; other fields are ignored,
/// as Shopify ignores filters it does not know. An unquoted date-time loses its time part,
/// as observed on the real API.
struct SearchQuery: Sendable, Equatable {
    enum Comparator: String, Sendable { case eq = ":", gt = ":>", ge = ":>=", lt = ":<", le = ":<=" }

    struct Term: Sendable, Equatable {
        var field: String
        var comparator: Comparator
        var value: String
        var quoted: Bool
        var negated: Bool = false
    }

    /// Disjunction of conjunctions.
    var alternatives: [[Term]]

    static let empty = SearchQuery(alternatives: [[]])

    static func parse(_ text: String?) -> SearchQuery {
        guard let text, !text.isEmpty else { return .empty }
        var alternatives: [[Term]] = [[]]
        var i = text.startIndex
        func skipSpaces() { while i < text.endIndex, text[i] == " " || text[i] == "\t" || text[i] == "\n" { i = text.index(after: i) } }
        while true {
            skipSpaces()
            guard i < text.endIndex else { break }
            // a bare word (field name, AND/OR, or free text)
            var negated = false
            if text[i] == "-" { negated = true; i = text.index(after: i) }
            let wordStart = i
            while i < text.endIndex, text[i] != ":" && text[i] != " " && text[i] != "\t" && text[i] != "\n" { i = text.index(after: i) }
            let word = String(text[wordStart..<i])
            if i >= text.endIndex || text[i] != ":" {
                if word == "AND" { continue }
                if word == "OR" { alternatives.append([]); continue }
                if word.uppercased() == "NOT" { continue }
                continue  // free-text term: ignored
            }
            // comparator
            var comp = ":"
            i = text.index(after: i)
            if i < text.endIndex, text[i] == ">" || text[i] == "<" {
                comp.append(text[i]); i = text.index(after: i)
                if i < text.endIndex, text[i] == "=" { comp.append("="); i = text.index(after: i) }
            }
            // value
            var value = ""
            var quoted = false
            if i < text.endIndex, text[i] == "'" || text[i] == "\"" {
                let q = text[i]
                quoted = true
                i = text.index(after: i)
                while i < text.endIndex, text[i] != q {
                    if text[i] == "\\", text.index(after: i) < text.endIndex { i = text.index(after: i) }
                    value.append(text[i]); i = text.index(after: i)
                }
                if i < text.endIndex { i = text.index(after: i) }
            } else {
                while i < text.endIndex, text[i] != " " && text[i] != "\t" && text[i] != "\n" && text[i] != ")" {
                    value.append(text[i]); i = text.index(after: i)
                }
            }
            let term = Term(
                field: word.lowercased(), comparator: Comparator(rawValue: comp) ?? .eq, value: value, quoted: quoted, negated: negated)
            alternatives[alternatives.count - 1].append(term)
        }
        return SearchQuery(alternatives: alternatives.filter { !$0.isEmpty }.isEmpty ? [[]] : alternatives.filter { !$0.isEmpty })
    }

    /// Whether a record with these facts matches. `dateFields` maps a field name to a timestamp.
    func matches(date: (String) -> Int64?, text: (String) -> String? = { _ in nil }, id: Int64? = nil) -> Bool {
        alternatives.contains { terms in
            terms.allSatisfy { term in
                let r = evaluate(term, date: date, text: text, id: id)
                return term.negated ? !r : r
            }
        }
    }

    private func evaluate(_ term: Term, date: (String) -> Int64?, text: (String) -> String?, id: Int64?) -> Bool {
        if term.field == "id", let id {
            guard let v = Int64(term.value) ?? Int64(term.value.split(separator: "/").last ?? "") else { return true }
            return compare(id, v, term.comparator)
        }
        if let t = date(term.field) {
            guard var (v, hasTime) = ISOTime.parse(term.value) else { return true }
            // Unquoted date-times lose their time part (observed on the real API).
            if !term.quoted && hasTime { v -= v % 86400; hasTime = false }
            if !hasTime && term.comparator == .eq { return t >= v && t < v + 86400 }
            if !hasTime && term.comparator == .le { return t < v + 86400 }
            if !hasTime && term.comparator == .gt { return t >= v + 86400 }
            return compare(t, v, term.comparator)
        }
        if let s = text(term.field) {
            return s.lowercased() == term.value.lowercased()
        }
        return true  // unknown filter: ignored
    }

    private func compare(_ a: Int64, _ b: Int64, _ c: Comparator) -> Bool {
        switch c {
        case .eq: return a == b
        case .gt: return a > b
        case .ge: return a >= b
        case .lt: return a < b
        case .le: return a <= b
        }
    }

    /// True if no term filters anything.
    var isEmpty: Bool { alternatives.allSatisfy { $0.isEmpty } }
}
