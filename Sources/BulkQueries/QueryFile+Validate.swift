import Foundation
import Loader

extension QueryFile {
    /// Validates the query against the bulk rules with the real GraphQL parser, checks its `{{…}}`
    /// templates, and checks that the `#!` mapping agrees with what the query selects. Violations name
    /// line and column in the file.
    ///
    /// - Parameter includingWarnings: also return warnings (`first:`/`pageInfo`/`cursor`, which
    ///   ``prepare(window:excludingTypes:variables:)`` strips; the `nodes` shorthand; a child type
    ///   mapped without its parent link). By default only errors come back, so an empty result means
    ///   the query can be prepared.
    public func validate(includingWarnings: Bool = false) -> [BulkRuleViolation] {
        let all = analyze().violations
        return includingWarnings ? all : all.filter(\.isError)
    }

    /// Parses and checks the file: the document (nil if it does not parse), what the rules learned, and
    /// every violation (errors and warnings), in file order.
    func analyze() -> (document: QueryDocument?, rules: BulkRules, violations: [BulkRuleViolation]) {
        let (document, parseViolations) = QueryDocument.parse(text)
        guard let document else { return (nil, BulkRules(), parseViolations) }
        let rules = BulkRules.check(document, schema: checks.schema)
        var violations = parseViolations + rules.violations
        violations += Self.checkTemplates(document.selections)
        if rules.root != nil {
            violations += checkMapping(rules)
        }
        violations += checkAgainstSchema(rules)
        violations.sort { ($0.line, $0.column) < ($1.line, $1.column) }
        return (document, rules, violations)
    }

    // MARK: templates

    /// Templates only inside `query:` strings, only known names, and not wrapped in quotes by hand.
    static func checkTemplates(_ selections: [QuerySelection]) -> [BulkRuleViolation] {
        var out: [BulkRuleViolation] = []
        func visit(_ selections: [QuerySelection]) {
            for selection in selections {
                switch selection {
                case .fragment(let f): visit(f.selections)
                case .field(let field):
                    for argument in field.arguments {
                        guard case .string(let value, let line, let column) = argument.value else { continue }
                        let hasBraces = value.contains("{{") || value.contains("}}")
                        guard hasBraces else { continue }
                        guard argument.name == "query" else {
                            out.append(
                                BulkRuleViolation(
                                    .template, "templates are filled only inside query: search strings, not in \(argument.name):",
                                    line: line,
                                    column: column))
                            continue
                        }
                        switch SearchTemplate.pieces(value) {
                        case .failure(let e):
                            out.append(BulkRuleViolation(.template, e.message, line: line, column: templateColumn(value, column, e.offset)))
                        case .success(let pieces):
                            for (i, piece) in pieces.enumerated() {
                                guard case .template(let template, let raw, let offset) = piece, template != .window else { continue }
                                let before = i > 0 ? pieces[i - 1] : nil
                                let after = i + 1 < pieces.count ? pieces[i + 1] : nil
                                if case .text(let b)? = before, case .text(let a)? = after,
                                    let q = b.last, q == "'" || q == "\"", a.first == q
                                {
                                    out.append(
                                        BulkRuleViolation(
                                            .template, "\(raw) is inserted already quoted; remove the quotes around it", line: line,
                                            column: templateColumn(value, column, offset)))
                                }
                            }
                        }
                    }
                    if let sub = field.selections { visit(sub) }
                }
            }
        }
        visit(selections)
        return out
    }

    /// The column of a template inside a string literal starting at `column` (exact for single-line
    /// strings without escapes, else the literal's column).
    static func templateColumn(_ value: String, _ column: Int, _ offset: Int) -> Int {
        value.contains(where: { $0 == "\\" || $0 == "\"" || $0.isNewline }) ? column : column + 1 + offset
    }

    // MARK: mapping

    /// The `#!` mapping against the query: every section's type is produced by a connection (with the
    /// parent it claims), every mapped path is selected, and nothing selected under a partly mapped
    /// top-level field is silently lost.
    func checkMapping(_ rules: BulkRules) -> [BulkRuleViolation] {
        var out: [BulkRuleViolation] = []
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func column(of needle: String, line: Int) -> Int {
            guard line >= 1, line <= lines.count, let r = lines[line - 1].range(of: needle) else { return 1 }
            return lines[line - 1].distance(from: lines[line - 1].startIndex, to: r.lowerBound) + 1
        }
        let producedList = rules.connections.map { "\($0.path.joined(separator: ".")) → \($0.concreteTypes.joined(separator: "|"))" }
        for section in mapping.sections {
            let at = (line: section.line, column: column(of: section.type, line: section.line))
            // A section may name a concrete type or the interface a connection's nodes are (DiscountApplication).
            let producers = rules.connections.filter { $0.concreteTypes.contains(section.type) || $0.nodeType == section.type }
            guard !producers.isEmpty else {
                // A connection shopbulk does not know has a guessed node type: the section may be right.
                let guessed = rules.connections.filter(\.derivedType)
                if guessed.isEmpty {
                    out.append(
                        BulkRuleViolation(
                            .mapping,
                            "\(section.type) -> \(section.table): no connection of the query produces \(section.type) nodes (the query has \(producedList.joined(separator: ", ")))",
                            line: at.line, column: at.column))
                } else {
                    let names = guessed.map { "\($0.path.joined(separator: ".")) → \($0.nodeType)?" }.joined(separator: ", ")
                    out.append(
                        BulkRuleViolation(
                            .mapping,
                            "\(section.type) -> \(section.table): no known connection produces \(section.type) nodes; shopbulk guessed the node types of \(names) from their names, so its paths cannot be checked",
                            line: at.line, column: at.column, severity: .warning))
                }
                continue
            }
            for p in producers {
                let name = p.path.joined(separator: ".")
                if let parent = section.parentType {
                    if let parentTypes = p.parentTypes {
                        if !parentTypes.contains(parent) {
                            out.append(
                                BulkRuleViolation(
                                    .mapping,
                                    "\(section.type) is mapped as a child of \(parent), but \(name) is nested in \(parentTypes.joined(separator: "|")) nodes",
                                    line: at.line, column: at.column))
                        }
                    } else {
                        out.append(
                            BulkRuleViolation(
                                .mapping,
                                "\(section.type) is mapped as a child of \(parent), but \(name) is the top-level connection (its lines have no __parentId)",
                                line: at.line, column: at.column))
                    }
                } else if let parentTypes = p.parentTypes {
                    out.append(
                        BulkRuleViolation(
                            .mapping,
                            "\(section.type) comes from the nested connection \(name); add ', child of \(parentTypes[0]) via <column>' to keep its link to the parent",
                            line: at.line, column: at.column, severity: .warning))
                }
            }
            for p in producers where !p.selectsID {
                // Lines without id are told apart by __typename only.
                if !p.nodeFields.contains(where: { $0.name == "__typename" && $0.alias == nil }) {
                    out.append(
                        BulkRuleViolation(
                            .mapping,
                            "\(section.type) -> \(section.table): the nodes of \(p.path.joined(separator: ".")) select no id, so their lines are routed by __typename: select __typename in them",
                            line: at.line, column: at.column))
                }
                if section.parentType == nil {
                    out.append(
                        BulkRuleViolation(
                            .mapping,
                            "\(section.type) -> \(section.table): its lines have no id; map them as children (', child of \(p.parentTypes?.first ?? "Parent") via <column>') into a table keyed by (shop_id, <column>, position)",
                            line: at.line, column: at.column))
                }
            }
            let fields = producers.flatMap { $0.nodeFields.map(QuerySelection.field) }.mergedFields
            for mapped in section.columns {
                if let problem = Self.resolve(mapped.path, in: fields, type: section.type, schema: rules.schema) {
                    out.append(
                        BulkRuleViolation(
                            .mapping, "\(section.type).\(mapped.path) -> \(mapped.column): \(problem)", line: mapped.line,
                            column: column(of: mapped.path, line: mapped.line)))
                }
            }
            out += Self.checkPartlyMapped(section, fields: fields, schema: rules.schema)
        }
        return out
    }

    /// Why `path` cannot be read from a node with these fields, or nil if it can.
    static func resolve(_ path: String, in fields: [QueryField], type: String, schema: AdminAPISchema? = nil) -> String? {
        let segments = path.split(separator: ".").map(String.init)
        var current = fields
        var parent: String? = type
        for (i, segment) in segments.enumerated() {
            let here = segments[...i].joined(separator: ".")
            guard let field = current.first(where: { $0.responseKey == segment }) else {
                let missing = segments[i...].reversed().reduce("") { inner, name in inner.isEmpty ? name : "\(name) { \(inner) }" }
                let place = i == 0 ? "to the \(type) node" : "inside \(segments[..<i].joined(separator: "."))"
                return "\(here) is not selected by the query (add `\(missing)` \(place), or remove this mapping line)"
            }
            let kind = BulkRules.classify(field, parent: parent, schema: schema)
            if case .connection = kind {
                return "\(here) is a connection: its nodes are lines of their own; map their type in a section of its own"
            }
            if i == segments.count - 1 { return nil }
            guard let sub = field.selections else {
                return "\(here) is a scalar; there is nothing below it to map"
            }
            if case .list = kind {
                return "\(here) is a list, and paths do not step into lists; map \(here) as a whole (a jsonb column)"
            }
            if case .object(let t) = kind { parent = t }
            current = sub.mergedFields
        }
        return nil
    }

    /// A top-level field that some mapping path goes into but that is not mapped as a whole: whatever
    /// else is selected below it is neither in a column nor in `extra` (only wholly unmapped top-level
    /// fields go there).
    static func checkPartlyMapped(_ section: Mapping.Section, fields: [QueryField], schema: AdminAPISchema? = nil) -> [BulkRuleViolation] {
        var out: [BulkRuleViolation] = []
        for member in fields where member.selections != nil {
            let key = member.responseKey
            let paths = section.columns.map(\.path).filter { $0 == key || $0.hasPrefix(key + ".") }
            guard !paths.isEmpty, !paths.contains(key) else { continue }
            if case .connection = BulkRules.classify(member, parent: section.type, schema: schema) { continue }
            for (endpoint, field) in endpoints(of: member, prefix: key, parent: section.type, schema: schema) {
                let covered = paths.contains { endpoint == $0 || endpoint.hasPrefix($0 + ".") }
                if !covered {
                    out.append(
                        BulkRuleViolation(
                            .mapping,
                            "\(section.type).\(endpoint) is selected but would be lost: \(key) is partly mapped (\(paths.joined(separator: ", "))), and only wholly unmapped top-level fields go to extra; map it (#!   \(endpoint) -> <column>) or remove it from the query",
                            line: field.line, column: field.column))
                }
            }
        }
        return out
    }

    /// The leaves (and whole lists) selected below `field`, as paths.
    static func endpoints(of field: QueryField, prefix: String, parent: String?, schema: AdminAPISchema? = nil) -> [(String, QueryField)] {
        guard let sub = field.selections else { return [(prefix, field)] }
        switch BulkRules.classify(field, parent: parent, schema: schema) {
        case .connection?: return []
        case .list?: return [(prefix, field)]
        case .object(let t)?:
            return sub.mergedFields.flatMap { endpoints(of: $0, prefix: prefix + "." + $0.responseKey, parent: t, schema: schema) }
        case nil: return [(prefix, field)]
        }
    }
}
