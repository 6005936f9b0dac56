import Foundation
import ShopifyAdmin

/// Settings of a shop connection as given by a user (`shopbulk shop add|edit`): every field optional,
/// `nil` meaning "the default" for a new shop and "unchanged" for an edit.
///
/// Secrets are never part of it: only references (`env:VAR`, `file:/absolute/path`). Everything is
/// checked by `validate()` before the database or the network is touched.
public struct ShopSettings: Sendable, Equatable {
    /// What to do with the API base URL override.
    public enum APIBaseChange: Sendable, Equatable {
        case unchanged
        case set(String)
        /// Back to `https://{store}.myshopify.com`.
        case clear
    }

    /// `halo`, `halo.myshopify.com` or `https://halo.myshopify.com/`.
    public var store: String?
    /// `env:VAR` or `file:/path` of a legacy Admin API access token.
    public var tokenRef: String?
    /// A Dev Dashboard app's client ID (not a secret).
    public var clientID: String?
    /// `env:VAR` or `file:/path` of the app's client secret.
    public var clientSecretRef: String?
    public var importLineItems: Bool?
    public var customersAs: Shop.CustomersAs?
    public var apiVersion: String?
    public var apiBase: APIBaseChange
    public var enabled: Bool?

    public init(
        store: String? = nil, tokenRef: String? = nil, clientID: String? = nil, clientSecretRef: String? = nil,
        importLineItems: Bool? = nil, customersAs: Shop.CustomersAs? = nil, apiVersion: String? = nil,
        apiBase: APIBaseChange = .unchanged, enabled: Bool? = nil
    ) {
        self.store = store
        self.tokenRef = tokenRef
        self.clientID = clientID
        self.clientSecretRef = clientSecretRef
        self.importLineItems = importLineItems
        self.customersAs = customersAs
        self.apiVersion = apiVersion
        self.apiBase = apiBase
        self.enabled = enabled
    }

    // MARK: references

    /// Refuses a value given where a reference belongs that looks like the secret itself (a pasted
    /// token): the message never shows it and says what to do instead.
    static func refusePastedSecret(_ value: String, option: String, kind: String) throws(ShopSettingsError) {
        guard let why = SecretReference.secretLikeness(value) else { return }
        let stem = option.hasSuffix("-env") ? String(option.dropLast(4)) : option.hasSuffix("-file") ? String(option.dropLast(5)) : option
        let example = stem.contains("secret") ? "HALO_SECRET" : "HALO_TOKEN"
        throw ShopSettingsError(
            message:
                "\(option) takes the \(kind), but the value looks like a secret itself (\(why)). Secrets never go on the command line, where `ps` and the shell history show them: put the secret in an environment variable (export \(example)=…) and give \(stem)-env \(example), or in a file only you can read (chmod 600 FILE) and give \(stem)-file FILE. Rotate the secret if others may have seen it."
        )
    }

    /// `env:NAME` for an environment variable holding a secret; the name is checked, the variable is not read.
    public static func environmentReference(_ variable: String, option: String = "--token-env") throws(ShopSettingsError) -> String {
        try refusePastedSecret(variable, option: option, kind: "name of an environment variable")
        do {
            return try SecretReference(parsing: "env:" + variable).description
        } catch {
            throw ShopSettingsError(
                message: "'\(variable.prefix(60))' is not an environment variable name (letters, digits and _, not starting with a digit)")
        }
    }

    /// `file:/absolute/path` for a file holding a secret: a relative path is made absolute against
    /// `currentDirectory` so that a scheduled run from another folder finds it.
    public static func fileReference(
        _ path: String, option: String = "--token-file", currentDirectory: String = FileManager.default.currentDirectoryPath
    ) throws(ShopSettingsError) -> String {
        try refusePastedSecret(path, option: option, kind: "path of a file")
        guard !path.isEmpty, !path.contains("\0") else { throw ShopSettingsError(message: "the secret file path is empty") }
        let absolute =
            path.hasPrefix("/")
            ? path
            : URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: currentDirectory, isDirectory: true)).standardizedFileURL.path
        do {
            return try SecretReference(parsing: "file:" + absolute).description
        } catch {
            throw ShopSettingsError(message: "'\(path.prefix(200))' is not a usable file path")
        }
    }

    // MARK: validation

    /// Whether a setting that decides where and with what credentials the tool connects is given
    /// (store, credentials, base URL): such an edit is re-verified. The API version alone is not.
    public var changesConnection: Bool {
        store != nil || tokenRef != nil || clientID != nil || clientSecretRef != nil || apiBase != .unchanged
    }

    /// Whether nothing would change.
    public var isEmpty: Bool {
        !changesConnection && apiVersion == nil && importLineItems == nil && customersAs == nil && enabled == nil
    }

    /// Checks every given value on its own and the combination of the credential settings, without
    /// touching the database or the network. Errors name the offending option.
    public func validate() throws(ShopSettingsError) {
        if let store {
            do { _ = try ShopEndpoint.normalizeStoreName(store) } catch { throw ShopSettingsError(message: "--store: \(error.message)") }
        }
        if let apiVersion {
            do { _ = try APIVersion(apiVersion) } catch { throw ShopSettingsError(message: "--api-version: \(error.message)") }
        }
        if case .set(let base) = apiBase {
            do { _ = try ShopEndpoint.validateBaseURL(base) } catch { throw ShopSettingsError(message: "--api-base: \(error.message)") }
        }
        for ref in [tokenRef, clientSecretRef].compactMap({ $0 }) {
            do { _ = try SecretReference(parsing: ref) } catch { throw ShopSettingsError(message: error.message) }
        }
        if tokenRef != nil && (clientID != nil || clientSecretRef != nil) {
            throw ShopSettingsError(
                message:
                    "give either a token (--token-env / --token-file) or client credentials (--client-id with --client-secret-env / --client-secret-file), not both"
            )
        }
        if let clientID, clientID.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ShopSettingsError(message: "--client-id is empty")
        }
        // A client ID is 32 hex digits and not secret; a token or shared secret pasted there is.
        if let clientID, let prefix = SecretReference.secretPrefixes.first(where: { clientID.lowercased().hasPrefix($0) }) {
            throw ShopSettingsError(
                message:
                    "--client-id takes the app's client ID, but the value starts with \(prefix), as Shopify secrets do: give the client ID (Dev Dashboard → the app → Settings) and the client secret through --client-secret-env VAR or --client-secret-file PATH. Rotate the secret if others may have seen it."
            )
        }
    }

    /// Checks what a new shop needs beyond `validate()`: a store and one complete authentication method.
    public func validateForNewShop() throws(ShopSettingsError) {
        try validate()
        guard store != nil else { throw ShopSettingsError(message: "--store is required (e.g. --store halo for halo.myshopify.com)") }
        if tokenRef == nil && clientID == nil && clientSecretRef == nil {
            throw ShopSettingsError(
                message:
                    "no credentials: give --token-env VAR or --token-file PATH (legacy custom app), or --client-id ID with --client-secret-env VAR or --client-secret-file PATH (Dev Dashboard app)"
            )
        }
        if clientID != nil && clientSecretRef == nil {
            throw ShopSettingsError(message: "--client-id needs --client-secret-env VAR or --client-secret-file PATH")
        }
        if clientSecretRef != nil && clientID == nil {
            throw ShopSettingsError(message: "--client-secret-env / --client-secret-file need --client-id ID")
        }
    }

    // MARK: building

    /// A new shop named `name` with these settings and the defaults for what is not given.
    public func makeShop(name: String) throws(ShopSettingsError) -> Shop {
        try Shop.validateName(name)
        try validateForNewShop()
        var shop = Shop(name: name, storeDomain: "", authMethod: .token)
        shop.customersAs = .contact
        shop.importLineItems = true
        shop.enabled = true
        shop.apiVersion = APIVersion.default.description
        return try applied(to: shop)
    }

    /// `shop` with these settings applied. Switching from a token to client credentials needs a
    /// client ID and a secret reference; the other method's fields are cleared.
    public func applied(to shop: Shop) throws(ShopSettingsError) -> Shop {
        try validate()
        var shop = shop
        if let store {
            do { shop.storeDomain = try ShopEndpoint.normalizeStoreName(store) + ".myshopify.com" } catch {
                throw ShopSettingsError(message: "--store: \(error.message)")
            }
        }
        if let tokenRef {
            shop.authMethod = .token
            shop.tokenRef = tokenRef
            shop.clientID = nil
            shop.clientSecretRef = nil
        } else if clientID != nil || clientSecretRef != nil {
            let switching = shop.authMethod != .clientCredentials
            guard let id = clientID ?? (switching ? nil : shop.clientID) else {
                throw ShopSettingsError(message: "switching '\(shop.name)' to client credentials needs --client-id ID")
            }
            guard let secret = clientSecretRef ?? (switching ? nil : shop.clientSecretRef) else {
                throw ShopSettingsError(
                    message: "switching '\(shop.name)' to client credentials needs --client-secret-env VAR or --client-secret-file PATH")
            }
            shop.authMethod = .clientCredentials
            shop.clientID = id.trimmingCharacters(in: .whitespaces)
            shop.clientSecretRef = secret
            shop.tokenRef = nil
        }
        if let importLineItems { shop.importLineItems = importLineItems }
        if let customersAs { shop.customersAs = customersAs }
        if let apiVersion {
            do { shop.apiVersion = try APIVersion(apiVersion).description } catch {
                throw ShopSettingsError(message: "--api-version: \(error.message)")
            }
        }
        switch apiBase {
        case .unchanged: break
        case .clear: shop.apiBase = nil
        case .set(let base):
            do { shop.apiBase = try ShopEndpoint.validateBaseURL(base) } catch {
                throw ShopSettingsError(message: "--api-base: \(error.message)")
            }
        }
        if let enabled { shop.enabled = enabled }
        return shop
    }
}

extension Shop {
    /// Checks a shop name: letters, digits, `.`, `_` and `-`, starting with a letter or digit, at most 100
    /// characters (the `shops.name` check, with a readable message).
    public static func validateName(_ name: String) throws(ShopSettingsError) {
        func isAlnum(_ s: Unicode.Scalar) -> Bool { ("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s) }
        guard let first = name.unicodeScalars.first, isAlnum(first) else {
            throw ShopSettingsError(message: "shop name '\(name.prefix(60))' must start with a letter or digit")
        }
        guard name.unicodeScalars.allSatisfy({ isAlnum($0) || $0 == "." || $0 == "_" || $0 == "-" }) else {
            throw ShopSettingsError(message: "shop name '\(name.prefix(60))' may contain only letters, digits, '.', '_' and '-'")
        }
        guard name.count <= 100 else { throw ShopSettingsError(message: "shop name is longer than 100 characters") }
    }

    /// How the shop authenticates, for listings: `token env:HALO_TOKEN`, `client-credentials <id> file:/etc/…`.
    /// References only: never a secret.
    public var authSummary: String {
        switch authMethod {
        case .token: return "token \(tokenRef.map(SecretReference.displayText) ?? "?")"
        case .clientCredentials:
            return "client-credentials \(clientID ?? "?") \(clientSecretRef.map(SecretReference.displayText) ?? "?")"
        }
    }
}

/// A shop's settings are unusable; the message names the option and never a secret.
public struct ShopSettingsError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
