import BulkQueries
import Foundation
import Loader
import Logging
import Postgres

/// A shop's own query files, used instead of the bundled `customers` / `orders` queries for its
/// imports (`shopbulk shop edit halo --query customers=/etc/shopbulk/halo/customers.graphql`).
public struct ShopQueryFiles {
    let connection: PostgresConnection
    public init(connection: PostgresConnection) { self.connection = connection }

    /// The resources a shop can have its own query file for.
    public static let resources = ["customers", "orders"]

    /// resource → absolute path.
    public func all(shop: Shop) throws -> [String: String] {
        var out: [String: String] = [:]
        for row in try connection.query(
            "SELECT resource, path FROM shop_query_files WHERE shop_id = $1", [shop.id], name: "read shop query files")
        {
            if let r = row["resource"].string, let p = row["path"].string { out[r] = p }
        }
        return out
    }

    /// The query file a shop's import of `resource` uses: its own, else the bundled one.
    public func resolve(_ resource: String, shop: Shop, queriesDirectory: String?) throws -> QueryFile {
        if let own = try all(shop: shop)[resource] {
            do {
                return try QueryFile.load(path: own)
            } catch {
                throw QueryFileError(
                    file: own,
                    message:
                        "shop \(shop.name)'s \(resource) query file cannot be read (\(error)); fix it or go back to the bundled one with `shopbulk shop edit \(shop.name) --query \(resource)=`"
                )
            }
        }
        return try QueryFile.resolve(resource, queriesDirectory: queriesDirectory)
    }

    /// Checks `path` as the shop's `resource` query and stores it: the bulk rules and the mapping, the
    /// shop's API version (and its cached schema), that its top-level connection is `resource`, and
    /// that every mapped table and column exists. Nothing is stored when a check fails.
    @discardableResult
    public func set(_ resource: String, path: String, shop: Shop, logger: Logger) throws -> QueryFile {
        guard Self.resources.contains(resource) else {
            throw ShopError(.invalidArgument, "--query takes customers=PATH or orders=PATH, not '\(resource)'")
        }
        let absolute =
            path.hasPrefix("/") ? path : URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(path).path
        var file = try QueryFile.load(path: (absolute as NSString).standardizingPath)
        try SchemaGate.check(&file, shop: shop, store: SchemaStore(connection: connection), logger: logger)
        let prepared = try file.prepare(window: nil)
        guard prepared.rootField == resource else {
            throw QueryFileError(
                file: file.path,
                message: "a \(resource) query must start from the \(resource) connection; this one starts from \(prepared.rootField)")
        }
        do { _ = try LoadPlan(mapping: file.mapping, file: file.path, on: connection) } catch let error as MappingError {
            throw QueryFileError(error)
        }
        try connection.query(
            """
            INSERT INTO shop_query_files (shop_id, resource, path, sha256) VALUES ($1, $2, $3, $4)
            ON CONFLICT (shop_id, resource) DO UPDATE SET path = EXCLUDED.path, sha256 = EXCLUDED.sha256, updated_at = now()
            """, [shop.id, resource, file.path, file.hash], name: "set shop query file")
        return file
    }

    /// Goes back to the bundled query for `resource`.
    public func remove(_ resource: String, shop: Shop) throws {
        try connection.query(
            "DELETE FROM shop_query_files WHERE shop_id = $1 AND resource = $2", [shop.id, resource], name: "remove shop query file")
    }
}
