import Importer
import Loader
import Postgres

/// A shop's choice of which customer fields make a contact's name, e-mail, phone, company and
/// address, and which custom fields a lookup shows (`contact_field_map`).
public struct ContactFieldMap {
    let connection: PostgresConnection
    public init(connection: PostgresConnection) { self.connection = connection }

    public static let coreFields = ["name", "email", "phone", "company", "address"]

    /// field → source.
    public func all(shop: Shop) throws -> [String: String] {
        var out: [String: String] = [:]
        for row in try connection.query(
            "SELECT field, source FROM contact_field_map WHERE shop_id = $1", [shop.id], name: "read contact field map")
        {
            if let f = row["field"].string, let s = row["source"].string { out[f] = s }
        }
        return out
    }

    /// Sets `field` (`name`, `email`, `phone`, `company`, `address` or `custom.NAME`) to come from
    /// `source`: a column of `customers` or a path into one (`extra.vip.value`); an empty source
    /// goes back to the default. The source's first part must be a column of `customers`.
    public func set(_ field: String, source: String, shop: Shop) throws {
        guard Self.coreFields.contains(field) || Self.isCustom(field) else {
            throw ShopError(
                .invalidArgument,
                "'\(field)' is not a contact field: use name, email, phone, company, address or custom.NAME (lower-case)")
        }
        if source.isEmpty {
            try connection.query(
                "DELETE FROM contact_field_map WHERE shop_id = $1 AND field = $2", [shop.id, field], name: "reset contact field")
            return
        }
        let parts = source.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let column = parts.first, Mapping.isIdentifier(column), parts.dropFirst().allSatisfy({ Mapping.isPath($0) }) else {
            throw ShopError(.invalidArgument, "'\(source)' is not a column of customers or a path into one (such as extra.vip.value)")
        }
        guard let customers = try TableSchema.read("customers", on: connection), customers.has(column) else {
            throw ShopError(
                .invalidArgument,
                "customers has no column \(column) (add a migration, or use extra.\(column) for a field kept in extra)")
        }
        try connection.query(
            """
            INSERT INTO contact_field_map (shop_id, field, source) VALUES ($1, $2, $3)
            ON CONFLICT (shop_id, field) DO UPDATE SET source = EXCLUDED.source
            """, [shop.id, field, source], name: "set contact field")
    }

    static func isCustom(_ field: String) -> Bool {
        guard field.hasPrefix("custom.") else { return false }
        let name = String(field.dropFirst(7))
        return Mapping.isIdentifier(name)
    }
}
