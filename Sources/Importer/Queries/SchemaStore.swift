import BulkQueries
import Crypto
import Foundation
import Logging
import Postgres
import ShopifyAdmin

/// The Admin API schemas cached in `admin_schemas`, one per API version.
public struct SchemaStore {
    let connection: PostgresConnection
    public init(connection: PostgresConnection) { self.connection = connection }

    /// One cached schema, without its text.
    public struct Entry: Sendable, Equatable {
        public var apiVersion: String
        public var typeCount: Int
        public var sha256: String
        public var pulledFrom: String?
        public var pulledAt: String
    }

    /// Stores (or replaces) the schema of `apiVersion`.
    public func save(apiVersion: String, sdl: String, typeCount: Int, pulledFrom shop: String?) throws {
        let hash = SHA256.hash(data: Data(sdl.utf8)).map { String(format: "%02x", $0) }.joined()
        try connection.query(
            """
            INSERT INTO admin_schemas (api_version, sdl, sha256, type_count, pulled_from, pulled_at)
            VALUES ($1, $2, $3, $4, $5, now())
            ON CONFLICT (api_version) DO UPDATE SET sdl = EXCLUDED.sdl, sha256 = EXCLUDED.sha256, type_count = EXCLUDED.type_count,
                pulled_from = EXCLUDED.pulled_from, pulled_at = now()
            """, [apiVersion, sdl, hash, Int64(typeCount), shop], name: "save admin schema")
    }

    /// The cached schemas, newest version first.
    public func list() throws -> [Entry] {
        try connection.query(
            "SELECT api_version, type_count, sha256, pulled_from, pulled_at::text AS pulled_at FROM admin_schemas ORDER BY api_version DESC",
            name: "list admin schemas"
        ).map { row in
            Entry(
                apiVersion: row["api_version"].string ?? "", typeCount: Int(row["type_count"].int64 ?? 0),
                sha256: row["sha256"].string ?? "",
                pulledFrom: row["pulled_from"].string, pulledAt: row["pulled_at"].string ?? "")
        }
    }

    /// The cached schema of `apiVersion`, built (once per process), or nil when none was pulled.
    public func schema(apiVersion: String) throws -> AdminAPISchema? {
        guard
            let row = try connection.query("SELECT sdl FROM admin_schemas WHERE api_version = $1", [apiVersion], name: "read admin schema")
                .first, let sdl = row["sdl"].string
        else { return nil }
        return try AdminAPISchema.parse(sdl: sdl, label: "API \(apiVersion) schema (cached)")
    }
}

extension SchemaStore {
    /// Fetches the shop's Admin API schema by introspection (on the shop's API version), checks that
    /// it builds, and caches it for that version. Returns the cache entry.
    @discardableResult
    public func pull(shop: Shop, connector: ShopConnector) async throws -> Entry {
        let client = try connector.client(for: shop)
        let fetched = try await client.fetchSchema()
        let label = "API \(client.endpoint.apiVersion) schema (pulled from \(shop.name))"
        _ = try AdminAPISchema.parse(sdl: fetched.sdl, label: label)
        try save(apiVersion: "\(client.endpoint.apiVersion)", sdl: fetched.sdl, typeCount: fetched.typeCount, pulledFrom: shop.name)
        guard let entry = try list().first(where: { $0.apiVersion == "\(client.endpoint.apiVersion)" }) else {
            throw SchemaError(message: "the schema of API \(client.endpoint.apiVersion) was not stored")
        }
        return entry
    }

    /// The SDL text cached for `apiVersion`, if any.
    public func sdl(apiVersion: String) throws -> String? {
        try connection.query("SELECT sdl FROM admin_schemas WHERE api_version = $1", [apiVersion], name: "read admin schema").first?[
            "sdl"
        ].string
    }
}
