import ArgumentParser
import Foundation
import Importer
import ServiceDesk
import ShopifyAdmin

/// `shopbulk shop add|edit|list|enable|disable|remove`: the shop connections stored in the database.
struct ShopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shop",
        abstract: "Manage shop connections (store, credentials by reference, import settings).",
        discussion: """
            Secrets are never given on the command line (they would show in `ps`) and never stored: a shop \
            holds references to them, `env:VAR` (--token-env, --client-secret-env) or `file:/path` \
            (--token-file, --client-secret-file), read when the tool connects.
            """,
        subcommands: [Add.self, Edit.self, List.self, Enable.self, Disable.self, Remove.self])
}

extension Shop.CustomersAs: ExpressibleByArgument {}

/// The settings of a shop connection shared by `shop add` and `shop edit`.
struct ShopSettingsOptions: ParsableArguments {
    @Option(help: "The store: halo or halo.myshopify.com (the myshopify.com name, not a custom domain).")
    var store: String?

    @Option(
        name: .customLong("token-env"),
        help: ArgumentHelp("Legacy custom app: the environment variable holding the Admin API access token.", valueName: "VAR"))
    var tokenEnv: String?

    @Option(
        name: .customLong("token-file"),
        help: ArgumentHelp("Legacy custom app: a file holding the Admin API access token.", valueName: "PATH"))
    var tokenFile: String?

    @Option(
        name: .customLong("client-id"), help: ArgumentHelp("Dev Dashboard app: its client ID (client-credentials grant).", valueName: "ID"))
    var clientID: String?

    @Option(
        name: .customLong("client-secret-env"),
        help: ArgumentHelp("Dev Dashboard app: the environment variable holding the client secret.", valueName: "VAR"))
    var clientSecretEnv: String?

    @Option(
        name: .customLong("client-secret-file"),
        help: ArgumentHelp("Dev Dashboard app: a file holding the client secret.", valueName: "PATH"))
    var clientSecretFile: String?

    @Flag(name: .customLong("line-items"), inversion: .prefixedNo, help: "Import the line items of each order (default: on).")
    var lineItems: Bool?

    @Option(
        name: .customLong("customers-as"), help: "Present Shopify customers as contacts (people) or customer accounts (default: contact).")
    var customersAs: Shop.CustomersAs?

    @Option(name: .customLong("api-version"), help: "The Admin API version, YYYY-MM or unstable (default: 2026-01).")
    var apiVersion: String?

    @Option(
        name: .customLong("api-base"),
        help: ArgumentHelp(
            "Override https://STORE.myshopify.com, e.g. http://127.0.0.1:PORT for the simulator (http:// only for loopback).",
            valueName: "URL"))
    var apiBase: String?

    /// The settings, checked on their own (no database, no network). Argument errors are `ValidationError`s.
    func settings() throws -> ShopSettings {
        if tokenEnv != nil && tokenFile != nil { throw ValidationError("give --token-env or --token-file, not both") }
        if clientSecretEnv != nil && clientSecretFile != nil {
            throw ValidationError("give --client-secret-env or --client-secret-file, not both")
        }
        return try usage {
            var s = ShopSettings()
            s.store = store
            s.tokenRef =
                try tokenEnv.map { v throws(ShopSettingsError) in try ShopSettings.environmentReference(v, option: "--token-env") }
                ?? tokenFile.map { p throws(ShopSettingsError) in try ShopSettings.fileReference(p, option: "--token-file") }
            s.clientID = clientID
            s.clientSecretRef =
                try clientSecretEnv.map { v throws(ShopSettingsError) in
                    try ShopSettings.environmentReference(v, option: "--client-secret-env")
                }
                ?? clientSecretFile.map { p throws(ShopSettingsError) in
                    try ShopSettings.fileReference(p, option: "--client-secret-file")
                }
            s.importLineItems = lineItems
            s.customersAs = customersAs
            s.apiVersion = apiVersion
            s.apiBase = apiBase.map { .set($0) } ?? .unchanged
            try s.validate()
            return s
        }
    }
}

/// Runs `body`, turning a `ShopSettingsError` into a usage error (exit 2).
func usage<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as ShopSettingsError { throw ValidationError(error.message) }
}

/// Connects to the shop and checks its scopes; prints warnings; a failure names what to do.
func verifyShop(_ shop: Shop, context: Context, action: String) async throws -> ShopVerification {
    var logger = context.logger
    // checkScopes logs its warning too; it is printed once below instead.
    if logger.logLevel >= .info { logger.logLevel = .error }
    do {
        let verification = try await shop.verifyAccess(logger: logger)
        for warning in verification.warnings { FileHandle.standardError.write(Data("warning: \(warning.visiblyEscaped)\n".utf8)) }
        return verification
    } catch {
        throw ShopError(
            .shopNotVerified,
            "cannot verify shop '\(shop.name)' (\(shop.storeDomain)): \(error)\nNothing was \(action). Fix the credentials or the app's scopes, or skip the check with --no-verify."
        )
    }
}

extension ShopCommand {

    static func setEnabled(_ name: String, _ enabled: Bool, database: DatabaseOptions, output: OutputOptions) throws {
        let context = try Context(database: database, output: output, schema: .requireCurrent)
        let store = ShopStore(connection: context.connection)
        let shop = try store.require(name)
        let changed = try store.setEnabled(shop, enabled)
        let word = enabled ? "enabled" : "disabled"
        if output.json {
            printJSON(ShopEnabledReport(name: name, enabled: enabled, changed: changed))
        } else {
            print(changed ? "Shop '\(name)' is now \(word)." : "Shop '\(name)' was already \(word).")
        }
    }
}
