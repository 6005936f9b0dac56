import Foundation

extension QueryFile {
    /// The query to submit: templates filled, `first:`/`after:`/`pageInfo`/`cursor` stripped, named
    /// fragments expanded, connections whose node type is in `excludingTypes` removed (e.g.
    /// `["LineItem"]` when a shop does not import line items), and the top-level connection's
    /// `sortKey` paired with the window's field when it has none.
    ///
    /// With `window == nil` (or a window without bounds), `{{window}}` disappears, and a `query:`
    /// argument left empty is removed altogether.
    ///
    /// - Throws: ``QueryFileError`` for parse errors and rule violations (listed in its `violations`),
    ///   unknown or unfillable templates (naming the file and line), a window the query has no
    ///   template for, and an exclusion of the top-level type.
    public func prepare(window: QueryWindow?, excludingTypes: Set<String> = [], variables: [String: String] = [:]) throws -> PreparedQuery {
        let (document, rules, violations) = analyze()
        let errors = violations.filter(\.isError)
        guard var document, errors.isEmpty, let root = rules.root else {
            throw QueryFileError(file: path, violations: errors)
        }
        var warnings = violations.filter { !$0.isError }
        if let window {
            guard window.field.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || $0 == "_" }), !window.field.isEmpty else {
                throw QueryFileError(
                    file: path, message: "the window field '\(window.field)' is not a search field name (such as updated_at)")
            }
            if let start = window.start, let end = window.end, start >= end {
                throw QueryFileError(
                    file: path,
                    message:
                        "the window is empty: start \(QueryWindow.quoted(start, roundingUp: false)) is not before end \(QueryWindow.quoted(end, roundingUp: true))"
                )
            }
        }
        guard !excludingTypes.contains(root.nodeType), excludingTypes.isDisjoint(with: root.concreteTypes) else {
            throw QueryFileError(
                file: path, line: root.field.line,
                message: "cannot leave out \(root.nodeType): it is the type of the top-level connection \(root.field.name)")
        }

        // Templates, everywhere a query: string has them.
        var filler = TemplateFiller(file: path, window: window, variables: variables)
        document.selections = try filler.fill(document.selections, isRoot: true)
        let effectiveWindow = window?.searchFilter == nil ? nil : window
        if let effectiveWindow, !filler.usedWindow {
            throw QueryFileError(
                file: path,
                message:
                    "a window on \(effectiveWindow.field) was given, but the query has no {{window}} (or {{updated_since}} …) template in a query: argument to put it in"
            )
        }

        // Pagination, exclusions, empty selections.
        let rewriter = Rewriter(excluding: excludingTypes, schema: checks.schema)
        document.selections = rewriter.rewrite(document.selections, parent: "QueryRoot", isTop: true)

        // sortKey pairing on the top-level connection.
        if let effectiveWindow, filler.rootUsedWindow, let wanted = AdminSchema.sortKey(forWindowField: effectiveWindow.field) {
            document.selections = document.selections.map { selection in
                guard case .field(var f) = selection, f.responseKey == root.field.responseKey else { return selection }
                if let existing = f.argument("sortKey") {
                    if case .literal(let value) = existing.value, value != wanted {
                        warnings.append(
                            BulkRuleViolation(
                                .sortKey,
                                "sortKey: \(value) does not pair with a window on \(effectiveWindow.field); Shopify advises sortKey: \(wanted) against range-search timeouts",
                                line: existing.line, column: existing.column, severity: .warning))
                    }
                } else {
                    f.arguments.append(QueryArgument(name: "sortKey", value: .literal(wanted), line: f.line, column: f.column))
                }
                return .field(f)
            }
        }

        // What is left must still pass (it only lost parts); check it as submitted.
        let final = BulkRules.check(document, schema: checks.schema)
        guard final.errors.isEmpty, let finalRoot = final.root else {
            throw QueryFileError(file: path, violations: final.errors)
        }
        let text = document.printed()
        if let schema = checks.schema {
            // What is submitted must be valid too (the sortKey added, templates filled).
            let problems = schema.diagnose(text).filter { !$0.isDeprecation }
            if !problems.isEmpty {
                throw QueryFileError(
                    file: path,
                    violations: problems.map {
                        BulkRuleViolation(
                            .schema, "in the query as submitted (line \($0.line), column \($0.column)): \($0.message) [\(schema.label)]",
                            line: root.field.line, column: root.field.column)
                    })
            }
        }
        return PreparedQuery(
            text: text, rootField: finalRoot.field.name, rootType: finalRoot.nodeType, types: final.producedTypes,
            warnings: warnings)
    }
}

/// Fills `{{…}}` in `query:` arguments.
struct TemplateFiller {
    var file: String
    var window: QueryWindow?
    var variables: [String: String]
    /// A window template was found anywhere / in the top-level connection's `query:`.
    var usedWindow = false
    var rootUsedWindow = false

    mutating func fill(_ selections: [QuerySelection], isRoot: Bool) throws(QueryFileError) -> [QuerySelection] {
        var out: [QuerySelection] = []
        for selection in selections {
            switch selection {
            case .fragment(var fragment):
                fragment.selections = try fill(fragment.selections, isRoot: isRoot)
                out.append(.fragment(fragment))
            case .field(var field):
                var arguments: [QueryArgument] = []
                for argument in field.arguments {
                    guard argument.name == "query", case .string(let value, let line, let column) = argument.value,
                        value.contains("{{") || value.contains("}}")
                    else {
                        arguments.append(argument)
                        continue
                    }
                    let pieces: [SearchTemplate.Piece]
                    switch SearchTemplate.pieces(value) {
                    case .success(let p): pieces = p
                    case .failure(let e): throw error(e, value, line, column)
                    }
                    let usesWindow = pieces.contains { if case .template(let t, _, _) = $0 { return t.usesWindow } else { return false } }
                    if usesWindow {
                        usedWindow = true
                        if isRoot { rootUsedWindow = true }
                    }
                    switch SearchTemplate.fill(pieces, window: window, variables: variables) {
                    case .failure(let e): throw error(e, value, line, column)
                    case .success(let filled?):
                        var a = argument
                        a.value = .string(filled, line: line, column: column)
                        arguments.append(a)
                    case .success(nil):
                        break  // nothing left: the argument goes
                    }
                }
                field.arguments = arguments
                if let sub = field.selections { field.selections = try fill(sub, isRoot: false) }
                out.append(.field(field))
            }
        }
        return out
    }

    func error(_ e: SearchTemplate.ParseError, _ value: String, _ line: Int, _ column: Int) -> QueryFileError {
        let col = QueryFile.templateColumn(value, column, e.offset)
        return QueryFileError(file: file, line: line, message: "column \(col): \(e.message)")
    }
}

/// Strips pagination, removes excluded connections, and drops selections left empty.
struct Rewriter {
    var excluding: Set<String>
    var schema: AdminAPISchema? = nil

    func rewrite(_ selections: [QuerySelection], parent: String?, isTop: Bool = false) -> [QuerySelection] {
        var out: [QuerySelection] = []
        for selection in selections {
            switch selection {
            case .fragment(var fragment):
                fragment.selections = rewrite(fragment.selections, parent: fragment.typeCondition ?? parent)
                if !fragment.selections.isEmpty { out.append(.fragment(fragment)) }
            case .field(var field):
                guard field.selections != nil else {
                    out.append(.field(field))
                    continue
                }
                switch BulkRules.classify(field, parent: parent, schema: schema) {
                case .connection(let nodeType, let concreteTypes, _)?:
                    if excluding.contains(nodeType) || !excluding.isDisjoint(with: concreteTypes) { continue }
                    field.arguments.removeAll { BulkRules.paginationArguments.contains($0.name) }
                    field.selections = connectionBody(field.selections ?? [], nodeType: nodeType)
                case .list(let t)?, .object(let t)?:
                    field.selections = rewrite(field.selections ?? [], parent: t)
                case nil:
                    break
                }
                if field.selections?.isEmpty == true { continue }
                out.append(.field(field))
            }
        }
        return out
    }

    /// The inside of a connection: no pageInfo, no cursor; nodes rewritten.
    func connectionBody(_ selections: [QuerySelection], nodeType: String) -> [QuerySelection] {
        var out: [QuerySelection] = []
        for selection in selections {
            switch selection {
            case .fragment(var fragment):
                fragment.selections = connectionBody(fragment.selections, nodeType: nodeType)
                if !fragment.selections.isEmpty { out.append(.fragment(fragment)) }
            case .field(var field):
                switch field.name {
                case "pageInfo":
                    continue
                case "edges":
                    field.selections = edgesBody(field.selections ?? [], nodeType: nodeType)
                case "nodes":
                    field.selections = rewrite(field.selections ?? [], parent: nodeType)
                default:
                    break
                }
                if field.selections?.isEmpty == true { continue }
                out.append(.field(field))
            }
        }
        return out
    }

    func edgesBody(_ selections: [QuerySelection], nodeType: String) -> [QuerySelection] {
        var out: [QuerySelection] = []
        for selection in selections {
            switch selection {
            case .fragment(var fragment):
                fragment.selections = edgesBody(fragment.selections, nodeType: nodeType)
                if !fragment.selections.isEmpty { out.append(.fragment(fragment)) }
            case .field(var field):
                if field.name == "cursor" { continue }
                if field.name == "node" { field.selections = rewrite(field.selections ?? [], parent: nodeType) }
                if field.selections?.isEmpty == true { continue }
                out.append(.field(field))
            }
        }
        return out
    }
}
