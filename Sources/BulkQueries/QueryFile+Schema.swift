import Foundation
import ShopifyAdmin

/// What a query file is checked against beyond the bulk rules.
public struct QueryCheckContext: Sendable {
    /// The real Admin API schema (a file, or the shop's cached pull): every field, argument and enum
    /// value is validated, deprecations are warned about, and connections are classified exactly.
    public var schema: AdminAPISchema?
    /// The API version the query will run on: fields that version does not have are errors even
    /// without a schema (from the version facts shopbulk knows, ``AdminVersionHistory``).
    public var apiVersion: APIVersion?

    public init(schema: AdminAPISchema? = nil, apiVersion: APIVersion? = nil) {
        self.schema = schema
        self.apiVersion = apiVersion
    }
}

/// Fields (and arguments) of the Admin API that appeared in a known version: the facts of the
/// project's notes (docs/shopify-bulk-api.md §1, §2, §7) and of the schemas in `shared/testdata`.
public enum AdminVersionHistory {
    /// `Type.field` (or `Type.field(argument:)`) → the first API version that has it.
    public static let since: [String: String] = [
        "Customer.defaultEmailAddress": "2025-04",
        "Customer.defaultPhoneNumber": "2025-04",
        "BulkOperationUserError.code": "2025-01",
        "Mutation.bulkOperationRunQuery(groupObjects:)": "2025-07",
        "QueryRoot.bulkOperation": "2026-01",
        "QueryRoot.bulkOperations": "2026-01",
    ]

    /// The first version of `type.field`, if it is one of the known late arrivals.
    public static func firstVersion(of field: String, on type: String) -> APIVersion? {
        since["\(type).\(field)"].flatMap { try? APIVersion($0) }
    }
}

extension QueryFile {
    /// Violations from ``checks``: the real schema's verdict on the file's text (positions are the
    /// file's), deprecation warnings with Shopify's reason, and fields the API version lacks.
    func checkAgainstSchema(_ rules: BulkRules) -> [BulkRuleViolation] {
        var out: [BulkRuleViolation] = []
        let version = checks.apiVersion
        let late = version.map { lateFields(rules, version: $0) } ?? []
        if let schema = checks.schema {
            for d in schema.diagnose(text) {
                var message = d.message
                if let hit = late.first(where: { $0.line == d.line && $0.column == d.column }) {
                    message += " (\(hit.message))"
                } else if d.isDeprecation == false, message.hasPrefix("Cannot query field") {
                    message += " [\(schema.label)]"
                }
                out.append(
                    BulkRuleViolation(
                        d.isDeprecation ? .deprecated : .schema, message, line: d.line, column: d.column,
                        severity: d.isDeprecation ? .warning : .error))
            }
            // A late field the schema knows (a newer schema than the shop's version) is still wrong.
            for hit in late where !out.contains(where: { $0.line == hit.line && $0.column == hit.column && $0.isError }) {
                out.append(hit)
            }
        } else {
            out += late
        }
        return out
    }

    /// Fields of the query that `version` does not have yet, by the known version facts.
    func lateFields(_ rules: BulkRules, version: APIVersion) -> [BulkRuleViolation] {
        var out: [BulkRuleViolation] = []
        func visit(_ fields: [QueryField], parent: String?) {
            for f in fields {
                if let parent, let first = AdminVersionHistory.firstVersion(of: f.name, on: parent), version < first {
                    out.append(
                        BulkRuleViolation(
                            .apiVersion,
                            "\(parent).\(f.name) exists from API \(first); this query runs on API \(version), which does not have it (move the shop to \(first) or later with `shopbulk shop edit SHOP --api-version \(APIVersion.default)`, or select another field)",
                            line: f.line, column: f.column))
                }
                guard let sub = f.selections else { continue }
                switch BulkRules.classify(f, parent: parent, schema: rules.schema) {
                case .connection?: continue  // visited as a connection of its own
                case .list(let t)?, .object(let t)?: visit(sub.mergedFields, parent: t)
                case nil: visit(sub.mergedFields, parent: nil)
                }
            }
        }
        for c in rules.connections {
            let parent = c.concreteTypes.count == 1 ? c.concreteTypes[0] : c.nodeType
            visit(c.nodeFields, parent: parent)
        }
        return out
    }
}
