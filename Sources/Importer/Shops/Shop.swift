import Postgres

/// A shop connection as stored in `shops`. Holds secret *references* only.
public struct Shop: Sendable, Equatable {
    public enum AuthMethod: String, Sendable, Equatable, CaseIterable {
        case token
        case clientCredentials = "client-credentials"
    }
    public enum CustomersAs: String, Sendable, Equatable, CaseIterable {
        case contact
        case customer
    }

    public var id: Int64
    public var name: String
    /// `halo.myshopify.com`.
    public var storeDomain: String
    public var authMethod: AuthMethod
    /// `env:VAR` or `file:/path`.
    public var tokenRef: String?
    public var clientID: String?
    public var clientSecretRef: String?
    public var enabled: Bool
    public var importLineItems: Bool
    public var customersAs: CustomersAs
    public var apiVersion: String
    public var apiBase: String?

    public init(
        id: Int64 = 0, name: String, storeDomain: String, authMethod: AuthMethod, tokenRef: String? = nil, clientID: String? = nil,
        clientSecretRef: String? = nil, enabled: Bool = true, importLineItems: Bool = true, customersAs: CustomersAs = .contact,
        apiVersion: String = "2026-01", apiBase: String? = nil
    ) {
        self.id = id
        self.name = name
        self.storeDomain = storeDomain
        self.authMethod = authMethod
        self.tokenRef = tokenRef
        self.clientID = clientID
        self.clientSecretRef = clientSecretRef
        self.enabled = enabled
        self.importLineItems = importLineItems
        self.customersAs = customersAs
        self.apiVersion = apiVersion
        self.apiBase = apiBase
    }
}

/// Reads and writes `shops`.
public struct ShopStore {
    let connection: PostgresConnection
    public init(connection: PostgresConnection) { self.connection = connection }

    static let columns =
        "id, name, store_domain, auth_method, token_ref, client_id, client_secret_ref, enabled, import_line_items, customers_as, api_version, api_base"

    public func all() throws -> [Shop] {
        try connection.query("SELECT \(Self.columns) FROM shops ORDER BY name", name: "list shops").map(Self.decode)
    }

    public func find(_ name: String) throws -> Shop? {
        try connection.query("SELECT \(Self.columns) FROM shops WHERE name = $1", [name], name: "find shop").first.map(Self.decode)
    }

    /// The shop, or an error that lists the known shops.
    public func require(_ name: String) throws -> Shop {
        if let shop = try find(name) { return shop }
        let known = try all().map(\.name)
        throw ShopError(
            .shopNotFound,
            "no shop named '\(name)'"
                + (known.isEmpty ? "; add one with `shopbulk shop add`" : "; known shops: \(known.joined(separator: ", "))"))
    }

    @discardableResult
    public func add(_ shop: Shop) throws -> Shop {
        do {
            let row = try connection.query(
                """
                INSERT INTO shops (name, store_domain, auth_method, token_ref, client_id, client_secret_ref, enabled,
                                   import_line_items, customers_as, api_version, api_base)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING \(Self.columns)
                """,
                [
                    shop.name, shop.storeDomain, shop.authMethod.rawValue, shop.tokenRef, shop.clientID, shop.clientSecretRef, shop.enabled,
                    shop.importLineItems, shop.customersAs.rawValue, shop.apiVersion, shop.apiBase,
                ], name: "add shop")
            return try Self.decode(row.first!)
        } catch let error as PostgresError where error.isUniqueViolation {
            throw ShopError(
                .shopExists,
                error.constraint == "shops_name_key"
                    ? "a shop named '\(shop.name)' already exists; use `shopbulk shop edit`"
                    : "the store \(shop.storeDomain) is already registered under another name")
        } catch let error as PostgresError where error.sqlState == "23514" {
            throw ShopError(
                .shopSettingsInvalid, "the shop's settings are inconsistent (\(error.constraint ?? "check failed")): \(error.message)")
        }
    }

    public func update(_ shop: Shop) throws {
        do {
            try updateRow(shop)
        } catch let error as PostgresError where error.isUniqueViolation {
            throw ShopError(.shopExists, "the store \(shop.storeDomain) is already registered under another name")
        } catch let error as PostgresError where error.sqlState == "23514" {
            throw ShopError(
                .shopSettingsInvalid, "the shop's settings are inconsistent (\(error.constraint ?? "check failed")): \(error.message)")
        }
    }

    private func updateRow(_ shop: Shop) throws {
        try connection.query(
            """
            UPDATE shops SET store_domain = $2, auth_method = $3, token_ref = $4, client_id = $5, client_secret_ref = $6,
                enabled = $7, import_line_items = $8, customers_as = $9, api_version = $10, api_base = $11, updated_at = now()
            WHERE id = $1
            """,
            [
                shop.id, shop.storeDomain, shop.authMethod.rawValue, shop.tokenRef, shop.clientID, shop.clientSecretRef, shop.enabled,
                shop.importLineItems, shop.customersAs.rawValue, shop.apiVersion, shop.apiBase,
            ], name: "update shop")
    }

    /// Removes a shop and, through the foreign keys, everything imported for it.
    public func remove(_ shop: Shop) throws {
        try connection.query("DELETE FROM shops WHERE id = $1", [shop.id], name: "remove shop")
    }

    static func decode(_ row: PostgresRow) throws -> Shop {
        Shop(
            id: try row["id"].decode(Int64.self), name: try row["name"].decode(String.self),
            storeDomain: try row["store_domain"].decode(String.self),
            authMethod: Shop.AuthMethod(rawValue: try row["auth_method"].decode(String.self)) ?? .token,
            tokenRef: row["token_ref"].string, clientID: row["client_id"].string, clientSecretRef: row["client_secret_ref"].string,
            enabled: row["enabled"].bool ?? true, importLineItems: row["import_line_items"].bool ?? true,
            customersAs: Shop.CustomersAs(rawValue: row["customers_as"].string ?? "contact") ?? .contact,
            apiVersion: row["api_version"].string ?? "2026-01", apiBase: row["api_base"].string)
    }
}

/// What went wrong with a request to shopbulk itself (a shop, a setting, an argument, the ledger), with
/// a stable code that scripts can match (`Error [CODE]: …` on standard error, `sync_runs.error_code`;
/// the list is in docs/error-codes.md). Messages may change; codes do not.
public struct ShopError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        /// No shop by that name.
        case shopNotFound = "shop-not-found"
        /// A shop with that name or store exists already.
        case shopExists = "shop-exists"
        /// The shop's settings contradict each other.
        case shopSettingsInvalid = "shop-settings-invalid"
        /// The connection check of `shop add|edit` failed: nothing was saved.
        case shopNotVerified = "shop-not-verified"
        /// The command deletes or replaces data and needs `--yes`.
        case confirmationRequired = "confirmation-required"
        /// A value given to the command is not one it can use.
        case invalidArgument = "invalid-argument"
        /// A lookup matched nobody.
        case notFound = "not-found"
        /// More PostgreSQL connections would be needed than the server has room for.
        case connectionBudget = "connection-budget"
        /// The simulator (`shopbulk demo`) did not start or answer.
        case simulatorFailed = "simulator-failed"
        /// `sync_runs` or the fleet's tables hold something the tool cannot continue from.
        case ledgerInconsistent = "ledger-inconsistent"
        /// A database session was used after it closed.
        case sessionClosed = "session-closed"
    }

    public var code: Code
    public var message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { message }
}
