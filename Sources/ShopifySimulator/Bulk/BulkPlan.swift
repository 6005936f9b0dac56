/// What to emit for one node type of a bulk query: the inline fields of its line and the
/// nested connections whose nodes become lines of their own.
final class BulkNodePlan: Sendable {
    let type: String
    /// Fields written inline in the node's line (connections removed).
    let fields: [CField]
    /// For an abstract node type (`DiscountApplication`): the inline fields per concrete type.
    let fieldsByType: [String: [CField]]
    let connections: [Nested]

    /// The inline fields of a node of the concrete `type`.
    func fields(for type: String) -> [CField] { fieldsByType.isEmpty ? fields : (fieldsByType[type] ?? []) }

    struct Nested: Sendable {
        let field: CField
        let plan: BulkNodePlan
    }

    init(type: String, fields: [CField], fieldsByType: [String: [CField]] = [:], connections: [Nested]) {
        self.type = type
        self.fields = fields
        self.fieldsByType = fieldsByType
        self.connections = connections
    }
}

/// A validated bulk query.
struct BulkPlan: Sendable {
    let root: CField
    let node: BulkNodePlan
    /// Access scopes the query needs (`read_customers`, `read_orders`).
    let requiredScopes: Set<String>
    /// A top-level connection the simulator has no data for (only with `--schema`): no lines.
    var empty = false
}

struct BulkRuleViolation: Error, Sendable, Equatable {
    var messages: [String]
}

enum BulkRules {
    static let maxConnections = 5
    static let maxNestingDepth = 2

    /// The node selection of a connection field: `edges { node { … } }` and `nodes { … }` merged.
    static func nodeSelection(of connection: CField) -> [CField] {
        var out: [CField] = []
        for c in connection.children {
            if c.name == "edges", let node = c.child("node") {
                for f in node.children where !out.contains(where: { $0.key == f.key }) { out.append(f) }
            } else if c.name == "nodes" {
                for f in c.children where !out.contains(where: { $0.key == f.key }) { out.append(f) }
            }
        }
        return out
    }

    /// The node selection per concrete type when the node type is abstract (else empty).
    static func nodeSelectionByType(of connection: CField) -> [String: [CField]] {
        var out: [String: [CField]] = [:]
        for c in connection.children {
            let node = c.name == "edges" ? c.child("node") : (c.name == "nodes" ? c : nil)
            guard let node else { continue }
            for (type, fields) in node.childrenByType {
                for f in fields where !(out[type] ?? []).contains(where: { $0.key == f.key }) { out[type, default: []].append(f) }
            }
        }
        return out
    }

    /// Validates a compiled bulk query (already checked against the schema) and builds its plan,
    /// or returns the user-error messages Shopify would give.
    static func plan(_ rootFields: [CField]) -> Result<BulkPlan, BulkRuleViolation> {
        let top = rootFields.filter { !$0.isTypename }
        if top.contains(where: { $0.name == "node" || $0.name == "nodes" }) {
            return .failure(BulkRuleViolation(messages: ["Bulk queries cannot contain a top level `node` or `nodes` field."]))
        }
        guard top.count == 1, let root = top.first else {
            return .failure(
                BulkRuleViolation(messages: [
                    top.isEmpty
                        ? "Bulk queries must contain at least one connection."
                        : "Bulk queries must contain exactly one top-level field, found \(top.count)."
                ]))
        }
        guard root.def.kind == .connection else {
            return .failure(BulkRuleViolation(messages: ["Bulk queries must contain at least one connection."]))
        }
        let modelledRoot = root.name == "customers" || root.name == "orders"
        guard modelledRoot || root.def.unmodelled else {
            return .failure(
                BulkRuleViolation(messages: ["The simulator can run bulk queries over `customers` and `orders` only (got `\(root.name)`)."])
            )
        }
        var errors: [String] = []
        var connections = 0
        var scopes: Set<String> = []
        var withoutId: [String] = []

        func scope(for type: String) {
            switch type {
            case "Customer", "MailingAddress": scopes.insert("read_customers")
            case "Order", "LineItem", "Fulfillment", "FulfillmentLineItem", "DiscountApplication": scopes.insert("read_orders")
            default: break
            }
        }

        /// Checks fields inside a node selection (or an object/list inside one).
        func walk(_ fields: [CField], depth: Int, insideList: Bool, insideObject: Bool) -> [BulkNodePlan.Nested] {
            var nested: [BulkNodePlan.Nested] = []
            for f in fields {
                scope(for: f.def.type)
                switch f.def.kind {
                case .connection:
                    connections += 1
                    if insideList {
                        errors.append("Queries that contain a connection field within a list field are not currently supported.")
                        continue
                    }
                    if depth + 1 > maxNestingDepth {
                        errors.append("Bulk queries cannot contain connections with a nesting depth greater than \(maxNestingDepth).")
                        continue
                    }
                    if insideObject {
                        errors.append("The simulator does not support connection `\(f.name)` inside a non-connection object field.")
                        _ = node(f, depth: depth + 1)
                        continue
                    }
                    nested.append(.init(field: f, plan: node(f, depth: depth + 1)))
                case .object:
                    _ = walk(f.children, depth: depth, insideList: insideList, insideObject: true)
                case .objectList:
                    _ = walk(f.children, depth: depth, insideList: true, insideObject: insideObject)
                case .scalar, .scalarList:
                    break
                }
            }
            return nested
        }

        func node(_ connection: CField, depth: Int) -> BulkNodePlan {
            scope(for: connection.def.type)
            let sel = nodeSelection(of: connection)
            let byType = nodeSelectionByType(of: connection)
            var all = sel
            for fields in byType.values { for f in fields where !all.contains(where: { $0.key == f.key }) { all.append(f) } }
            let nested = walk(all, depth: depth, insideList: false, insideObject: false)
            // Shopify: the parent of a nested connection selects `id` itself, not under an alias.
            if !nested.isEmpty, !all.contains(where: { $0.name == "id" && $0.key == "id" }) {
                withoutId.append(contentsOf: nested.map(\.field.key))
            }
            return BulkNodePlan(
                type: connection.def.type, fields: sel.filter { $0.def.kind != .connection },
                fieldsByType: byType.mapValues { $0.filter { $0.def.kind != .connection } }, connections: nested)
        }

        connections += 1
        let rootPlan = node(root, depth: 0)
        if !withoutId.isEmpty {
            errors.append(
                "The parent 'node' field for a nested connection must select the 'id' field without an alias and must be of 'ID' return type. Connection fields without 'id': \(withoutId.joined(separator: ", "))."
            )
        }
        if connections > maxConnections {
            errors.insert("Bulk queries cannot contain more than \(maxConnections) connections.", at: 0)
        }
        if !errors.isEmpty {
            var unique: [String] = []
            for e in errors where !unique.contains(e) { unique.append(e) }
            // Shopify's own rules first; the simulator's limitations last.
            unique = unique.filter { !$0.hasPrefix("The simulator") } + unique.filter { $0.hasPrefix("The simulator") }
            return .failure(BulkRuleViolation(messages: unique))
        }
        var plan = BulkPlan(root: root, node: rootPlan, requiredScopes: scopes)
        plan.empty = !modelledRoot  // a valid query over a connection without data: it completes with no lines
        return .success(plan)
    }
}
