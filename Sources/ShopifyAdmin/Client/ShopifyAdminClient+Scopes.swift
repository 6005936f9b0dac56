/// The access scopes the app holds on the shop.
public struct ScopeReport: Sendable, Equatable {
    /// Scope handles as granted, e.g. `read_customers`, `write_orders`.
    public var granted: [String]
    /// Warnings that do not stop an import (the 60-day order window).
    public var warnings: [String]

    /// Whether `scope` is granted (a `write_` scope implies its `read_` scope).
    public func has(_ scope: String) -> Bool {
        if granted.contains(scope) { return true }
        if scope.hasPrefix("read_") { return granted.contains("write_" + scope.dropFirst(5)) }
        return false
    }

    /// Whether orders older than 60 days are visible.
    public var hasAllOrders: Bool { has("read_all_orders") }
}

extension ShopifyAdminClient {
    /// Reads `currentAppInstallation { accessScopes { handle } }` and checks `required`. A missing
    /// scope throws `missingScope` naming it and where to add it; a missing `read_all_orders` is logged
    /// and reported as a warning (only the last 60 days of orders are visible).
    @discardableResult
    public func checkScopes(required: [String] = ["read_customers", "read_orders"]) async throws -> ScopeReport {
        let data = try await strictGraphQL(
            query: AdminOperations.scopes, estimatedCost: 2)
        guard let list = data["currentAppInstallation"]?["accessScopes"]?.array else {
            throw ShopifyError(code: .badResponse, message: "currentAppInstallation.accessScopes is missing", store: endpoint.store)
        }
        var report = ScopeReport(granted: list.compactMap { $0["handle"]?.string }, warnings: [])
        let missing = required.filter { !report.has($0) }
        if let first = missing.first {
            let names = missing.joined(separator: ", ")
            throw ShopifyError(
                code: .missingScope,
                message: "the app lacks the access scope\(missing.count > 1 ? "s" : "") \(names): \(credentials.scopeHint)",
                store: endpoint.store, scope: first)
        }
        if required.contains("read_orders") && !report.hasAllOrders {
            let warning =
                "the app has no read_all_orders scope: Shopify shows it only the last 60 days of orders; request read_all_orders access for a full history"
            report.warnings.append(warning)
            logger.warning("\(warning)")
        }
        return report
    }
}
