/// The GraphQL operations this client sends, per API version: one place, so that a test can check
/// each against the real schema of every version that uses it.
public enum AdminOperations {
    /// `bulkOperationRunQuery`: with `groupObjects` from 2025-07, with `userErrors.code` from 2025-01.
    public static func submit(_ version: APIVersion) -> String {
        let code = version.hasUserErrorCode ? " code" : ""
        if version.hasGroupObjects {
            return """
                mutation ShopbulkRunQuery($query: String!, $groupObjects: Boolean!) {
                  bulkOperationRunQuery(query: $query, groupObjects: $groupObjects) {
                    bulkOperation { \(BulkOperation.selection) }
                    userErrors { field message\(code) }
                  }
                }
                """
        }
        return """
            mutation ShopbulkRunQuery($query: String!) {
              bulkOperationRunQuery(query: $query) {
                bulkOperation { \(BulkOperation.selection) }
                userErrors { field message\(code) }
              }
            }
            """
    }

    /// One operation by id, and the key of the answer: `bulkOperation(id:)` from 2026-01, `node(id:)` before.
    public static func poll(_ version: APIVersion) -> (query: String, key: String) {
        if version.hasBulkOperationQueries {
            return ("query ShopbulkBulkOperation($id: ID!) { bulkOperation(id: $id) { \(BulkOperation.selection) } }", "bulkOperation")
        }
        return (
            "query ShopbulkBulkOperation($id: ID!) { node(id: $id) { ... on BulkOperation { \(BulkOperation.selection) } } }", "node"
        )
    }

    /// `bulkOperationCancel` (its `userErrors` are the generic `UserError`: no `code`).
    public static let cancel = """
        mutation ShopbulkCancel($id: ID!) {
          bulkOperationCancel(id: $id) { bulkOperation { \(BulkOperation.selection) } userErrors { field message } }
        }
        """

    /// The app's operations: `bulkOperations` (paged) from 2026-01; `currentBulkOperation` before.
    public static func list(_ version: APIVersion) -> String {
        if version.hasBulkOperationQueries {
            return """
                query ShopbulkList($first: Int!, $after: String, $query: String) {
                  bulkOperations(first: $first, after: $after, query: $query) {
                    edges { cursor node { \(BulkOperation.selection) } }
                    pageInfo { hasNextPage endCursor }
                  }
                }
                """
        }
        return "query ShopbulkCurrent { currentBulkOperation(type: QUERY) { \(BulkOperation.selection) } }"
    }

    /// The access scopes the app holds.
    public static let scopes = "query ShopbulkScopes { currentAppInstallation { accessScopes { handle } } }"

    /// The oldest record of a top-level connection (`customers`, `orders`) by `updated_at` or
    /// `created_at`, and the key of the timestamp in its node.
    public static func oldestRecord(resource: String, field: String) -> (query: String, key: String) {
        let sortKey = field == "updated_at" ? "UPDATED_AT" : "CREATED_AT"
        let key = field == "updated_at" ? "updatedAt" : "createdAt"
        return ("{ \(resource)(first: 1, sortKey: \(sortKey)) { edges { node { \(key) } } } }", key)
    }

    /// Every operation the client sends on `version`, by name (for the schema tests).
    public static func all(_ version: APIVersion) -> [(name: String, text: String)] {
        [
            ("submit", submit(version)), ("poll", poll(version).query), ("cancel", cancel), ("list", list(version)),
            ("scopes", scopes), ("oldest customer", oldestRecord(resource: "customers", field: "created_at").query),
            ("oldest order", oldestRecord(resource: "orders", field: "updated_at").query),
            ("introspection", AdminIntrospection.query),
        ]
    }
}
