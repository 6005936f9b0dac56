// INTERIM: replaced by the GraphQL-AST implementation on branch `query` when it lands.
import Foundation

public struct QueryWindow: Sendable, Equatable, Codable {
    public var field: String
    public var start: Date?
    public var end: Date?
    public init(field: String, start: Date?, end: Date?) {
        self.field = field
        self.start = start
        self.end = end
    }
}

public struct PreparedQuery: Sendable, Equatable {
    public var text: String
    public var rootField: String
    public var rootType: String
    public var types: [String]
}

extension QueryFile {
    public func prepare(window: QueryWindow?, excludingTypes: Set<String> = [], variables: [String: String] = [:]) throws -> PreparedQuery {
        var text = text
        if let window {
            var terms: [String] = []
            if let s = window.start { terms.append("\(window.field):>='\(Timestamp.text(s))'") }
            if let e = window.end { terms.append("\(window.field):<'\(Timestamp.text(e))'") }
            text = text.replacingOccurrences(of: "{{window}}", with: terms.joined(separator: " AND "))
        } else {
            text = text.replacingOccurrences(of: "query: \"{{window}}\", ", with: "")
        }
        if excludingTypes.contains("LineItem"), let r = text.range(of: "lineItems {") {
            var depth = 0
            var i = r.upperBound
            depth = 1
            while depth > 0 {
                if text[i] == "{" { depth += 1 }
                if text[i] == "}" { depth -= 1 }
                i = text.index(after: i)
            }
            text.removeSubrange(r.lowerBound..<i)
        }
        let types = mapping.sections.map(\.type).filter { !excludingTypes.contains($0) }
        return PreparedQuery(text: text, rootField: name, rootType: types.first ?? "", types: types)
    }
}
