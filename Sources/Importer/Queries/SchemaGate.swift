import BulkQueries
import Logging
import Postgres
import ShopifyAdmin

/// Checks a shop's query files before anything is submitted: against the shop's API version (the
/// version facts) and, when `shopbulk schema pull` cached one, the real schema of that version.
public enum SchemaGate {
    /// What the gate used.
    public enum Basis: Sendable, Equatable {
        /// The cached schema of the shop's API version.
        case cachedSchema(String)
        /// No schema cached for that version: bulk rules and version facts only.
        case noSchema(String)
    }

    /// The query files of `resources` for `shop` (its own, else the bundled ones), each checked.
    public static func queries(
        _ resources: [String], shop: Shop, queriesDirectory: String?, connection: PostgresConnection, logger: Logger
    ) throws -> [String: QueryFile] {
        let store = SchemaStore(connection: connection)
        var out: [String: QueryFile] = [:]
        for resource in resources {
            var q = try ShopQueryFiles(connection: connection).resolve(resource, shop: shop, queriesDirectory: queriesDirectory)
            try check(&q, shop: shop, store: store, logger: logger)
            out[resource] = q
        }
        return out
    }

    /// Sets `file.checks` for `shop` and validates; throws ``QueryFileError`` (every error, with line
    /// and column) when the query cannot work on the shop. Says in the log which basis it used.
    @discardableResult
    public static func check(_ file: inout QueryFile, shop: Shop, store: SchemaStore, logger: Logger) throws -> Basis {
        let version = try APIVersion(shop.apiVersion)
        let schema = try store.schema(apiVersion: shop.apiVersion)
        file.checks = QueryCheckContext(schema: schema, apiVersion: version)
        let basis: Basis = schema == nil ? .noSchema(shop.apiVersion) : .cachedSchema(shop.apiVersion)
        let found = file.validate(includingWarnings: true)
        let errors = found.filter(\.isError)
        if !errors.isEmpty { throw QueryFileError(file: file.path, violations: errors) }
        for w in found where w.rule == .deprecated || w.rule == .apiVersion {
            logger.warning(
                "the query uses a deprecated field",
                metadata: ["file": "\(file.path)", "line": "\(w.line)", "column": "\(w.column)", "reason": "\(w.message)"])
        }
        switch basis {
        case .cachedSchema(let v):
            logger.info(
                "query validated against the cached Admin API schema", metadata: ["query": "\(file.name)", "api_version": "\(v)"])
        case .noSchema(let v):
            logger.notice(
                "no Admin API schema cached for this API version: the query is checked against the bulk rules and known version facts only",
                metadata: ["query": "\(file.name)", "api_version": "\(v)", "hint": "shopbulk schema pull \(shop.name)"])
        }
        return basis
    }
}
