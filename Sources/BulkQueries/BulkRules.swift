/// The bulk-operation rules (API notes §3) checked on a parsed query, and what the check learned:
/// the connections, their node types and node selections.
struct BulkRules {
    static let maxConnections = 5
    static let maxNestingDepth = 2
    static let paginationArguments: Set<String> = ["first", "last", "after", "before"]

    /// One connection of the query.
    struct Connection: Sendable {
        var field: QueryField
        /// Field names from the top (`["orders", "lineItems"]`), for messages.
        var path: [String]
        var nodeType: String
        /// Types that can appear in GIDs for its nodes (`[nodeType]` unless an interface).
        var concreteTypes: [String]
        /// The node type was guessed from the field name (a field the built-in table does not know).
        var derivedType: Bool
        /// 0 for the top-level connection.
        var depth: Int
        /// Concrete types of the enclosing connection's nodes; nil at the top.
        var parentTypes: [String]?
        /// The node selection (`edges { node { … } }` and `nodes { … }`), fragments merged.
        var nodeFields: [QueryField]
        /// The nodes select `id` without an alias: their lines carry it (else only `__parentId`).
        var selectsID: Bool = true
        /// Another connection hangs below these nodes.
        var hasNestedConnection: Bool = false
    }

    var connections: [Connection] = []
    var violations: [BulkRuleViolation] = []
    /// The real Admin API schema, when known: connections, lists and node types come from it
    /// instead of the built-in table and the shape of the selection.
    var schema: AdminAPISchema? = nil

    var root: Connection? { connections.first { $0.depth == 0 } }
    var errors: [BulkRuleViolation] { violations.filter(\.isError) }

    /// All node types of the query's connections, root first, without duplicates: the concrete types,
    /// and the interface a connection's nodes are (a mapping section may name either).
    var producedTypes: [String] {
        var out: [String] = []
        for c in connections {
            for t in c.concreteTypes where !out.contains(t) { out.append(t) }
            if !out.contains(c.nodeType) { out.append(c.nodeType) }
        }
        return out
    }

    /// Checks `document`.
    static func check(_ document: QueryDocument, schema: AdminAPISchema? = nil) -> BulkRules {
        var rules = BulkRules()
        rules.schema = schema
        let top = document.selections.mergedFields.filter { $0.name != "__typename" }
        for f in top where f.name == "node" || f.name == "nodes" {
            rules.add(
                .topLevelNode,
                "bulk queries cannot have a top-level `\(f.name)` field; start from a connection such as orders or customers", f)
        }
        guard let root = top.first(where: { $0.name != "node" && $0.name != "nodes" }) else {
            if top.isEmpty {
                rules.violations.append(
                    BulkRuleViolation(
                        .topLevelField, "the query selects nothing; a bulk query has exactly one top-level connection", line: document.line,
                        column: document.column))
            }
            return rules
        }
        for extra in top where extra.responseKey != root.responseKey && extra.name != "node" && extra.name != "nodes" {
            rules.add(
                .topLevelField, "a bulk query has exactly one top-level field; \(extra.name) is a second one (run a separate query for it)",
                extra)
        }
        guard let kind = classify(root, parent: "QueryRoot", schema: schema), case .connection = kind else {
            rules.add(
                .connection,
                "the top-level field \(root.name) is not a connection (select it as \(root.name) { edges { node { id … } } }); bulk queries need at least one connection",
                root)
            return rules
        }
        rules.connection(
            root, kind: kind, derived: rules.isGuessed(root, parent: "QueryRoot"), path: [], depth: 0, parentTypes: nil)
        let total = rules.connections.count
        if total > maxConnections, let sixth = rules.connections.dropFirst(maxConnections).first {
            rules.add(
                .tooManyConnections,
                "a bulk query may contain at most \(maxConnections) connections; this one has \(total) (\(rules.connections.map { $0.path.joined(separator: ".") }.joined(separator: ", ")))",
                sixth.field)
        }
        return rules
    }

    /// What `field` is under `parent`: the real schema when given, else the built-in table, then its
    /// shape; nil for a leaf.
    static func classify(_ field: QueryField, parent: String?, schema: AdminAPISchema? = nil) -> AdminSchema.Kind? {
        guard let selections = field.selections else { return nil }
        if let schema, let exact = schema.kind(of: field.name, parent: parent) { return exact }
        if let known = AdminSchema.kind(of: field.name, parent: parent) { return known }
        if hasConnectionShape(selections) {
            let type = AdminSchema.derivedNodeType(field.name)
            return .connection(nodeType: type, concreteTypes: [type], isNode: true)
        }
        return .object(type: nil)
    }

    static func hasConnectionShape(_ selections: [QuerySelection]) -> Bool {
        selections.mergedFields.contains { f in
            (f.name == "edges" && (f.selections?.mergedFields.contains { $0.name == "node" } ?? false))
                || (f.name == "nodes" && f.selections != nil)
        }
    }

    /// The node type of this connection had to be guessed from its name.
    func isGuessed(_ field: QueryField, parent: String?) -> Bool {
        if let schema, schema.kind(of: field.name, parent: parent) != nil { return false }
        return AdminSchema.kind(of: field.name, parent: parent) == nil
    }

    mutating func add(_ rule: BulkRuleViolation.Rule, _ message: String, _ field: QueryField, severity: BulkRuleViolation.Severity = .error)
    {
        violations.append(BulkRuleViolation(rule, message, line: field.line, column: field.column, severity: severity))
    }

    mutating func connection(_ field: QueryField, kind: AdminSchema.Kind, derived: Bool, path: [String], depth: Int, parentTypes: [String]?)
    {
        guard case .connection(let nodeType, let concreteTypes, let isNode) = kind else { return }
        let path = path + [field.name]
        let name = path.joined(separator: ".")
        for argument in field.arguments where Self.paginationArguments.contains(argument.name) {
            violations.append(
                BulkRuleViolation(
                    .pagination, "\(argument.name): on \(name) is ignored by bulk operations and is left out of the submitted query",
                    line: argument.line, column: argument.column, severity: .warning))
        }
        var nodeSelections: [QuerySelection] = []
        var hasEdges = false
        var hasNodes = false
        for sub in (field.selections ?? []).mergedFields {
            switch sub.name {
            case "edges":
                for e in (sub.selections ?? []).mergedFields {
                    if e.name == "node", let s = e.selections {
                        nodeSelections += s
                        hasEdges = true
                    } else if e.name == "cursor" {
                        add(
                            .pagination, "cursor on \(name) is pointless in a bulk query and is left out of the submitted query", e,
                            severity: .warning)
                    }
                }
            case "nodes":
                if let s = sub.selections {
                    nodeSelections += s
                    hasNodes = true
                    add(
                        .nodesShorthand, "\(name) uses the nodes shorthand; Shopify documents bulk queries with edges { node { … } } only",
                        sub, severity: .warning)
                }
            case "pageInfo":
                add(
                    .pagination, "pageInfo on \(name) is pointless in a bulk query and is left out of the submitted query", sub,
                    severity: .warning)
            default:
                break
            }
        }
        guard hasEdges || hasNodes else {
            add(.connection, "\(name) is a connection: select its nodes with \(field.name) { edges { node { id … } } }", field)
            return
        }
        let nodeFields = nodeSelections.mergedFields
        let selectsID = nodeFields.contains(where: { $0.name == "id" && $0.alias == nil && $0.selections == nil })
        let index = connections.count
        connections.append(
            Connection(
                field: field, path: path, nodeType: nodeType, concreteTypes: concreteTypes, derivedType: derived, depth: depth,
                parentTypes: parentTypes, nodeFields: nodeFields, selectsID: selectsID))
        walk(nodeFields, parent: nodeType, path: path, depth: depth, insideList: nil, parentTypes: concreteTypes)
        let nested = connections[(index + 1)...].filter { $0.depth == depth + 1 }.map { $0.path.last ?? "" }
        connections[index].hasNestedConnection = !nested.isEmpty
        if !selectsID {
            if !nested.isEmpty {
                // Shopify's own rule: children are linked to their parent through its id.
                let aliased = nodeFields.contains { $0.name == "id" && $0.alias != nil }
                add(
                    .missingID,
                    "the nodes of \(name) must select id\(aliased ? " without an alias" : ""): \(nested.joined(separator: ", ")) \(nested.count == 1 ? "is a connection" : "are connections") nested in them, and Shopify links their lines to the parent through __parentId (\"The parent 'node' field for a nested connection must select the 'id' field without an alias\")",
                    field)
            } else if depth == 0 {
                add(
                    .missingID,
                    "the nodes of \(name) must select id: top-level lines are stored by their id (a nested connection's nodes may leave it out)",
                    field)
            } else if isNode {
                add(
                    .missingID,
                    "the nodes of \(name) do not select id: their lines carry only __parentId and load as id-less children (select id to store them by it)",
                    field, severity: .warning)
            }
        }
    }

    /// Walks fields inside a node (or inside an object or list inside one) looking for connections.
    mutating func walk(_ fields: [QueryField], parent: String?, path: [String], depth: Int, insideList: String?, parentTypes: [String]) {
        for f in fields {
            guard let kind = Self.classify(f, parent: parent, schema: schema) else { continue }
            switch kind {
            case .connection:
                let name = (path + [f.name]).joined(separator: ".")
                if let list = insideList {
                    add(
                        .connectionInList,
                        "\(name) is a connection inside the plain list \(list); bulk queries reject connections within list fields (query it from its own connection instead)",
                        f)
                    continue
                }
                if depth + 1 > Self.maxNestingDepth {
                    add(
                        .nestingDepth,
                        "\(name) nests connections \(depth + 1) levels deep; bulk queries allow at most \(Self.maxNestingDepth) levels below the top-level connection",
                        f)
                    continue
                }
                connection(
                    f, kind: kind, derived: isGuessed(f, parent: parent), path: path, depth: depth + 1, parentTypes: parentTypes)
            case .list(let type):
                if Self.hasConnectionShape(f.selections ?? []) {
                    add(.connection, "\(f.name) is a plain list here, not a connection: select its fields directly, without edges/node", f)
                }
                walk(
                    (f.selections ?? []).mergedFields, parent: type, path: path + [f.name], depth: depth, insideList: insideList ?? f.name,
                    parentTypes: parentTypes)
            case .object(let type):
                walk(
                    (f.selections ?? []).mergedFields, parent: type, path: path + [f.name], depth: depth, insideList: insideList,
                    parentTypes: parentTypes)
            }
        }
    }
}
