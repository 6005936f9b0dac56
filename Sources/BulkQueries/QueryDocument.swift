import Foundation
internal import GraphQL
import JSONL

/// A query file's operation after parsing with the GraphQL parser: named fragments expanded,
/// positions kept, easy to change and to print again.
struct QueryDocument: Sendable, Equatable {
    var selections: [QuerySelection]
    /// Line and column of the operation (for violations about the whole query).
    var line: Int
    var column: Int

    /// Parses `text`; problems that make the document unusable come back as violations.
    static func parse(_ text: String) -> (QueryDocument?, [BulkRuleViolation]) {
        let document: GraphQL.Document
        do {
            document = try GraphQL.parse(source: text)
        } catch let error as GraphQLError {
            let loc = error.locations.first
            var message = error.message
            if message.hasPrefix("Syntax Error: ") { message = String(message.dropFirst(14)) }
            return (nil, [BulkRuleViolation(.syntax, "GraphQL syntax error: \(message)", line: loc?.line ?? 1, column: loc?.column ?? 1)])
        } catch {
            return (nil, [BulkRuleViolation(.syntax, "GraphQL syntax error: \(error)", line: 1, column: 1)])
        }
        var violations: [BulkRuleViolation] = []
        var fragments: [String: FragmentDefinition] = [:]
        var operations: [OperationDefinition] = []
        for definition in document.definitions {
            if let f = definition as? FragmentDefinition {
                if fragments[f.name.value] != nil {
                    let (l, c) = position(f.loc)
                    violations.append(BulkRuleViolation(.fragment, "fragment \(f.name.value) is defined twice", line: l, column: c))
                }
                fragments[f.name.value] = f
            } else if let o = definition as? OperationDefinition {
                operations.append(o)
            } else {
                let (l, c) = position(definition.loc)
                violations.append(
                    BulkRuleViolation(.operation, "a query file holds one query (and fragments), not type definitions", line: l, column: c))
            }
        }
        guard let operation = operations.first else {
            violations.append(
                BulkRuleViolation(.operation, "the file has no query: write `{ customers { edges { node { id } } } }`", line: 1, column: 1))
            return (nil, violations)
        }
        for extra in operations.dropFirst() {
            let (l, c) = position(extra.loc)
            violations.append(
                BulkRuleViolation(.operation, "a bulk query file holds exactly one operation; this is another one", line: l, column: c))
        }
        let (line, column) = position(operation.loc)
        if operation.operation != .query {
            violations.append(
                BulkRuleViolation(
                    .operation, "bulkOperationRunQuery runs queries only, not a \(operation.operation.rawValue)", line: line, column: column
                ))
        }
        for variable in operation.variableDefinitions {
            let (l, c) = position(variable.loc)
            violations.append(
                BulkRuleViolation(
                    .variables,
                    "a bulk query is submitted without variables: replace $\(variable.variable.name.value) by a literal or a {{var:NAME}} template",
                    line: l, column: c))
        }
        var builder = Builder(fragments: fragments)
        let selections = builder.selections(operation.selectionSet, spreading: [])
        violations += builder.violations
        return (QueryDocument(selections: selections, line: line, column: column), violations)
    }

    static func position(_ loc: Location?) -> (Int, Int) {
        guard let token = loc?.startToken else { return (1, 1) }
        return (token.line, token.column)
    }

    /// Turns AST selections into ``QuerySelection``s, expanding named fragments.
    struct Builder {
        var fragments: [String: FragmentDefinition]
        var violations: [BulkRuleViolation] = []

        mutating func selections(_ set: SelectionSet, spreading: [String]) -> [QuerySelection] {
            var out: [QuerySelection] = []
            for selection in set.selections {
                if let field = selection as? GraphQL.Field {
                    out.append(.field(self.field(field, spreading: spreading)))
                } else if let inline = selection as? InlineFragment {
                    let (l, c) = position(inline.loc)
                    out.append(
                        .fragment(
                            QueryFragment(
                                typeCondition: inline.typeCondition?.name.value,
                                directives: inline.directives.map { GraphQL.print(ast: $0) },
                                selections: selections(inline.selectionSet, spreading: spreading), line: l, column: c)))
                } else if let spread = selection as? FragmentSpread {
                    let name = spread.name.value
                    let (l, c) = position(spread.loc)
                    guard let definition = fragments[name] else {
                        violations.append(BulkRuleViolation(.fragment, "fragment \(name) is not defined in this file", line: l, column: c))
                        continue
                    }
                    if spreading.contains(name) {
                        violations.append(
                            BulkRuleViolation(
                                .fragment, "fragment \(name) spreads itself (\((spreading + [name]).joined(separator: " → ")))", line: l,
                                column: c))
                        continue
                    }
                    out.append(
                        .fragment(
                            QueryFragment(
                                typeCondition: definition.typeCondition.name.value,
                                directives: spread.directives.map { GraphQL.print(ast: $0) }
                                    + definition.directives.map { GraphQL.print(ast: $0) },
                                selections: selections(definition.selectionSet, spreading: spreading + [name]), line: l, column: c,
                                fromNamedFragment: name)))
                }
            }
            return out
        }

        mutating func field(_ field: GraphQL.Field, spreading: [String]) -> QueryField {
            let (line, column) = position(field.loc)
            var arguments: [QueryArgument] = []
            for argument in field.arguments {
                let (l, c) = position(argument.loc)
                let value: QueryArgument.Value
                if let string = argument.value as? StringValue {
                    let (sl, sc) = position(string.loc)
                    value = .string(string.value, line: sl, column: sc)
                } else {
                    value = .literal(GraphQL.print(ast: argument.value))
                    if Self.containsVariable(argument.value) {
                        violations.append(
                            BulkRuleViolation(
                                .variables, "a bulk query is submitted without variables: \(argument.name.value) uses one", line: l,
                                column: c))
                    }
                }
                arguments.append(QueryArgument(name: argument.name.value, value: value, line: l, column: c))
            }
            return QueryField(
                alias: field.alias?.value, name: field.name.value, arguments: arguments,
                directives: field.directives.map { GraphQL.print(ast: $0) },
                selections: field.selectionSet.map { selections($0, spreading: spreading) }, line: line, column: column)
        }

        static func containsVariable(_ value: Value) -> Bool {
            if value is Variable { return true }
            if let list = value as? ListValue { return list.values.contains { containsVariable($0) } }
            if let object = value as? ObjectValue { return object.fields.contains { containsVariable($0.value) } }
            return false
        }
    }
}

/// One selection: a field, or an inline fragment (named fragments are expanded into these).
enum QuerySelection: Sendable, Equatable {
    case field(QueryField)
    case fragment(QueryFragment)
}

struct QueryFragment: Sendable, Equatable {
    var typeCondition: String?
    var directives: [String]
    var selections: [QuerySelection]
    var line: Int
    var column: Int
    /// The named fragment this was spread from, if any.
    var fromNamedFragment: String? = nil
}

struct QueryField: Sendable, Equatable {
    var alias: String?
    var name: String
    var arguments: [QueryArgument]
    /// Directives as printed GraphQL (`@include(if: true)`).
    var directives: [String]
    /// nil for a leaf.
    var selections: [QuerySelection]?
    var line: Int
    var column: Int

    /// The key of this field in the result JSON.
    var responseKey: String { alias ?? name }

    func argument(_ name: String) -> QueryArgument? { arguments.first { $0.name == name } }
}

struct QueryArgument: Sendable, Equatable {
    enum Value: Sendable, Equatable {
        /// A string literal's value (unescaped), and where the literal starts.
        case string(String, line: Int, column: Int)
        /// Any other value, as printed GraphQL (`UPDATED_AT`, `10`, `[1, 2]`).
        case literal(String)
    }
    var name: String
    var value: Value
    var line: Int
    var column: Int
}

extension [QuerySelection] {
    /// The fields of these selections with inline fragments merged in (for checks, not for printing).
    var flattenedFields: [QueryField] {
        var out: [QueryField] = []
        for selection in self {
            switch selection {
            case .field(let f): out.append(f)
            case .fragment(let fragment): out += fragment.selections.flattenedFields
            }
        }
        return out
    }

    /// Every field, merged by response key: selections of repeated fields are concatenated.
    var mergedFields: [QueryField] {
        var out: [QueryField] = []
        for field in flattenedFields {
            if let i = out.firstIndex(where: { $0.responseKey == field.responseKey }) {
                if let more = field.selections {
                    out[i].selections = (out[i].selections ?? []) + more
                }
            } else {
                out.append(field)
            }
        }
        return out
    }
}

// MARK: - Printing

extension QueryDocument {
    /// The operation as GraphQL text, two spaces per level, one field per line.
    func printed() -> String {
        var out = "{\n"
        Self.print(selections, indent: 1, into: &out)
        out += "}\n"
        return out
    }

    static func print(_ selections: [QuerySelection], indent: Int, into out: inout String) {
        let pad = String(repeating: "  ", count: indent)
        for selection in selections {
            switch selection {
            case .field(let f):
                out += pad
                if let alias = f.alias { out += alias + ": " }
                out += f.name
                if !f.arguments.isEmpty {
                    out += "(" + f.arguments.map { $0.name + ": " + $0.value.printed }.joined(separator: ", ") + ")"
                }
                for d in f.directives { out += " " + d }
                if let sub = f.selections {
                    if let inline = inlineLeaves(sub), pad.count + f.name.count + inline.count < 130 {
                        out += " " + inline
                    } else {
                        out += " {\n"
                        print(sub, indent: indent + 1, into: &out)
                        out += pad + "}"
                    }
                }
                out += "\n"
            case .fragment(let fragment):
                out += pad + "..."
                if let t = fragment.typeCondition { out += " on " + t }
                for d in fragment.directives { out += " " + d }
                out += " {\n"
                print(fragment.selections, indent: indent + 1, into: &out)
                out += pad + "}\n"
            }
        }
    }
}

extension QueryDocument {
    /// `{ amount currencyCode }` or `{ shopMoney { amount } }` when a selection set holds only plain
    /// fields (no arguments, directives or fragments) and at most one of them has a selection of its
    /// own, printed the same way; nil otherwise.
    static func inlineLeaves(_ selections: [QuerySelection]) -> String? {
        var parts: [String] = []
        var nested = 0
        for selection in selections {
            guard case .field(let f) = selection, f.arguments.isEmpty, f.directives.isEmpty else { return nil }
            var text = (f.alias.map { $0 + ": " } ?? "") + f.name
            if let sub = f.selections {
                nested += 1
                guard nested == 1, let inner = inlineLeaves(sub) else { return nil }
                text += " " + inner
            }
            parts.append(text)
        }
        return "{ " + parts.joined(separator: " ") + " }"
    }
}

extension QueryArgument.Value {
    var printed: String {
        switch self {
        case .string(let s, _, _): return Self.graphQLString(s)
        case .literal(let text): return text
        }
    }

    /// A GraphQL string literal for `s` (``JSONString``): no value can end the string early.
    static func graphQLString(_ s: String) -> String { JSONString.quoted(s) }
}
