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
    /// `shopbulk shop add NAME --store S (--token-env V | --token-file P | --client-id ID --client-secret-env V | --client-secret-file P)`
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a shop connection, after checking the connection and the app's scopes.",
            discussion: """
                Authentication is implied by the flags: --token-env/--token-file for a legacy custom app's \
                Admin API access token, --client-id with --client-secret-env/--client-secret-file for a Dev \
                Dashboard app (client-credentials grant). Before saving, shopbulk connects and checks that the \
                app holds read_customers and read_orders (and warns without read_all_orders); --no-verify skips that.
                """)

        @Argument(help: "A name for the connection: letters, digits, '.', '_' and '-'.")
        var name: String

        @OptionGroup var settings: ShopSettingsOptions

        @Flag(help: "Save the shop disabled (no imports until `shopbulk shop enable`).")
        var disabled = false

        @Flag(name: .customLong("no-verify"), help: "Save without connecting to the shop.")
        var noVerify = false

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            try usage { try Shop.validateName(name) }
            var s = try settings.settings()
            s.enabled = !disabled
            _ = try usage { try s.makeShop(name: name) }
        }

        func run() async throws {
            var s = try settings.settings()
            s.enabled = !disabled
            let shop = try usage { try s.makeShop(name: name) }
            let context = try Context(database: database, output: output, schema: .requireCurrent)
            let store = ShopStore(connection: context.connection)
            if try store.find(name) != nil {
                throw ShopError(.shopExists, "a shop named '\(name)' already exists; change it with `shopbulk shop edit \(name)`")
            }
            let verification = noVerify ? nil : try await verifyShop(shop, context: context, action: "saved")
            let saved = try store.add(shop)
            if output.json {
                printJSON(
                    ShopAddReport(
                        shop: ShopJSON(saved), verified: verification != nil, grantedScopes: verification?.grantedScopes ?? [],
                        warnings: verification?.warnings ?? []))
                return
            }
            print("Added shop '\(saved.name)': \(saved.storeDomain), \(saved.authSummary)\(saved.enabled ? "" : ", disabled").")
            if let verification {
                print(
                    "Connection verified (\(verification.endpoint)); scopes: \(verification.grantedScopes.sorted().joined(separator: ", ").visiblyEscaped)."
                )
            } else {
                print("Not verified (--no-verify).")
            }
        }
    }

    /// `shopbulk shop edit NAME [settings]`: changes only the given settings.
    struct Edit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change the given settings of a shop connection (others stay as they are).",
            discussion: """
                A change of the store, credentials or API base URL is verified like `shop add` unless \
                --no-verify. Giving a token switches the shop to token authentication; giving --client-id and a \
                client secret reference switches it to client credentials.
                """)

        @Argument(help: "The shop to change.")
        var name: String

        @OptionGroup var settings: ShopSettingsOptions

        @Flag(name: .customLong("clear-api-base"), help: "Go back to https://STORE.myshopify.com.")
        var clearAPIBase = false

        @Flag(name: .customLong("no-verify"), help: "Save without connecting to the shop.")
        var noVerify = false

        @Option(
            name: .customLong("query"),
            help: ArgumentHelp(
                "The shop's own query file for customers or orders, checked when set (RESOURCE= goes back to the bundled one). Repeatable.",
                valueName: "RESOURCE=PATH"))
        var queryFiles: [String] = []

        @Option(
            name: .customLong("contact-field"),
            help: ArgumentHelp(
                "Where a contact's name, email, phone, company or address (or a custom.NAME field) comes from: a customers column or a path into one (extra.vip.value); FIELD= resets it. Repeatable.",
                valueName: "FIELD=SOURCE"))
        var contactFields: [String] = []

        @Option(
            name: .customLong("delta-every"),
            help: ArgumentHelp(
                "How often `shopbulk worker` imports what changed (15m, 1h, 1d…; off stops it). A new schedule is due at once: the first claim runs the full import if there is none yet.",
                valueName: "INTERVAL"))
        var deltaEvery: String?

        @Option(
            name: .customLong("reconcile-every"),
            help: ArgumentHelp(
                "How often `shopbulk worker` marks rows Shopify no longer has as deleted (1d, 1w…; off stops it). First due one interval from now.",
                valueName: "INTERVAL"))
        var reconcileEvery: String?

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        static func interval(_ text: String?, option: String) throws -> FleetStore.Interval {
            guard let text else { return .unchanged }
            do {
                return try FleetSchedule.parseDuration(text).map { .every(seconds: $0) } ?? .off
            } catch {
                throw ValidationError("\(option): \(error)")
            }
        }

        static func pairs(_ values: [String], option: String) throws -> [(String, String)] {
            try values.map { v in
                guard let eq = v.firstIndex(of: "=") else { throw ValidationError("\(option) takes NAME=VALUE, got '\(v)'") }
                return (String(v[..<eq]), String(v[v.index(after: eq)...]))
            }
        }

        func changes() throws -> ShopSettings {
            var s = try settings.settings()
            if clearAPIBase {
                if settings.apiBase != nil { throw ValidationError("give --api-base or --clear-api-base, not both") }
                s.apiBase = .clear
            }
            return s
        }

        func validate() throws {
            _ = try Self.pairs(queryFiles, option: "--query")
            _ = try Self.pairs(contactFields, option: "--contact-field")
            _ = try Self.interval(deltaEvery, option: "--delta-every")
            _ = try Self.interval(reconcileEvery, option: "--reconcile-every")
            if try changes().isEmpty && queryFiles.isEmpty && contactFields.isEmpty && deltaEvery == nil && reconcileEvery == nil {
                throw ValidationError("nothing to change: give at least one setting (see `shopbulk shop edit --help`)")
            }
        }

        func run() async throws {
            let changes = try changes()
            let context = try Context(database: database, output: output, schema: .requireCurrent)
            let store = ShopStore(connection: context.connection)
            let current = try store.require(name)
            let updated = try usage { try changes.applied(to: current) }
            let differences = Self.differences(current, updated)
            var verification: ShopVerification?
            if !differences.isEmpty {
                let connectionChanged =
                    updated.storeDomain != current.storeDomain || updated.authMethod != current.authMethod
                    || updated.tokenRef != current.tokenRef
                    || updated.clientID != current.clientID || updated.clientSecretRef != current.clientSecretRef
                    || updated.apiBase != current.apiBase
                if connectionChanged && !noVerify {
                    verification = try await verifyShop(updated, context: context, action: "changed")
                }
            }
            // Settings, the shop's own query files and its contact fields in one transaction: a query
            // file or contact field that fails its check leaves everything as it was.
            var notes: [String] = []
            let queryPairs = try Self.pairs(queryFiles, option: "--query")
            let fieldPairs = try Self.pairs(contactFields, option: "--contact-field")
            try context.connection.transaction {
                if !differences.isEmpty { try store.update(updated) }
                for (resource, path) in queryPairs {
                    let files = ShopQueryFiles(connection: context.connection)
                    if path.isEmpty {
                        try files.remove(resource, shop: updated)
                        notes.append("\(resource) query: back to the bundled one")
                    } else {
                        let file = try files.set(resource, path: path, shop: updated, logger: context.logger)
                        notes.append("\(resource) query: \(file.path) (checked)")
                    }
                }
                for (field, source) in fieldPairs {
                    try ContactFieldMap(connection: context.connection).set(field, source: source, shop: updated)
                    notes.append(source.isEmpty ? "contact \(field): default" : "contact \(field) ← \(source)")
                }
                let delta = try Self.interval(deltaEvery, option: "--delta-every")
                let reconcile = try Self.interval(reconcileEvery, option: "--reconcile-every")
                if delta != .unchanged || reconcile != .unchanged {
                    try FleetStore(connection: context.connection).setSchedule(shopID: updated.id, delta: delta, reconcile: reconcile)
                    for (kind, change) in [("delta", delta), ("reconcile", reconcile)] {
                        switch change {
                        case .unchanged: break
                        case .off: notes.append("\(kind) schedule: off")
                        case .every(let seconds):
                            notes.append("\(kind) every \(FleetSchedule.format(seconds: seconds)) (run by `shopbulk worker`)")
                        }
                    }
                }
            }
            if !output.json { for n in notes { print("\(updated.name): \(n)") } }
            if output.json {
                printJSON(ShopEditReport(shop: ShopJSON(updated), changed: differences.map(\.field), verified: verification != nil))
                return
            }
            if differences.isEmpty {
                if notes.isEmpty { print("Shop '\(name)' already has these settings; nothing changed.") }
                return
            }
            print("Changed shop '\(name)':")
            for d in differences { print("  \(d.field): \(d.old.visiblyEscaped) → \(d.new.visiblyEscaped)") }
            if let verification { print("Connection verified (\(verification.endpoint)).") }
        }

        static func differences(_ a: Shop, _ b: Shop) -> [(field: String, old: String, new: String)] {
            var out: [(String, String, String)] = []
            func check(_ field: String, _ x: String?, _ y: String?) { if x != y { out.append((field, x ?? "-", y ?? "-")) } }
            check("store", a.storeDomain, b.storeDomain)
            check("auth", a.authSummary, b.authSummary)
            check("line items", a.importLineItems ? "on" : "off", b.importLineItems ? "on" : "off")
            check("customers as", a.customersAs.rawValue, b.customersAs.rawValue)
            check("api version", a.apiVersion, b.apiVersion)
            check("api base", a.apiBase, b.apiBase)
            check("enabled", a.enabled ? "yes" : "no", b.enabled ? "yes" : "no")
            return out.map { (field: $0.0, old: $0.1, new: $0.2) }
        }
    }

    /// `shopbulk shop list`
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the shop connections (secret references, never secrets).")

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let context = try Context(database: database, output: output, schema: .requireCurrent)
            let shops = try ShopStore(connection: context.connection).all()
            let queryFiles = ShopQueryFiles(connection: context.connection)
            let contactFields = ContactFieldMap(connection: context.connection)
            if output.json {
                printJSON(
                    try shops.map { shop in
                        ShopListEntry(
                            shop: ShopJSON(shop), queryFiles: try queryFiles.all(shop: shop),
                            contactFields: try contactFields.all(shop: shop))
                    })
                return
            }
            if shops.isEmpty {
                print("No shops yet; add one with `shopbulk shop add NAME --store STORE --token-env VAR`.")
                return
            }
            var table = TextTable(["NAME", "STORE", "AUTH", "ENABLED", "LINE ITEMS", "CUSTOMERS AS", "API", "API BASE"])
            table.maxCellWidth = 300
            for s in shops {
                table.append([
                    s.name, s.storeDomain, s.authSummary, s.enabled ? "yes" : "no", s.importLineItems ? "yes" : "no",
                    s.customersAs.rawValue,
                    s.apiVersion, s.apiBase,
                ])
            }
            print(table.render(), terminator: "")
            // A shop's own query files and contact fields, where it has any.
            for s in shops {
                for (resource, path) in try queryFiles.all(shop: s).sorted(by: { $0.key < $1.key }) {
                    print("\(s.name): \(resource) query \(path)")
                }
                for (field, source) in try contactFields.all(shop: s).sorted(by: { $0.key < $1.key }) {
                    print("\(s.name): contact \(field) ← \(source)")
                }
            }
        }
    }

    /// `shopbulk shop enable NAME`
    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a shop's imports (`import --all` includes it).")
        @Argument(help: "The shop.") var name: String
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        func run() async throws { try setEnabled(name, true, database: database, output: output) }
    }

    /// `shopbulk shop disable NAME`
    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a shop's imports; its data stays.")
        @Argument(help: "The shop.") var name: String
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        func run() async throws { try setEnabled(name, false, database: database, output: output) }
    }

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

    /// `shopbulk shop remove NAME --yes`
    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a shop connection AND all data imported for it (needs --yes).",
            discussion: """
                Deleting the shop deletes its customers, orders, order lines, other records, runs, high-water \
                marks and rejected records (ON DELETE CASCADE). To stop importing but keep the data, use \
                `shopbulk shop disable`.
                """)

        @Argument(help: "The shop.") var name: String

        @Flag(help: "Confirm that the shop and all its imported data are deleted.")
        var yes = false

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let context = try Context(database: database, output: output, schema: .requireCurrent)
            let store = ShopStore(connection: context.connection)
            let shop = try store.require(name)
            let counts = try store.dataCounts(shop)
            let what =
                "\(counts.customers) customers, \(counts.orders) orders, \(counts.orderLines) order lines, \(counts.otherRecords) other records, \(counts.runs) runs"
            guard yes else {
                throw ShopError(
                    .confirmationRequired,

                    "removing shop '\(name)' deletes it and all data imported for it (\(what)) through ON DELETE CASCADE; run again with --yes to confirm, or use `shopbulk shop disable \(name)` to keep the data"
                )
            }
            try store.remove(shop)
            if output.json {
                printJSON(
                    ShopRemoveReport(
                        name: name, removed: true, customers: counts.customers, orders: counts.orders, orderLines: counts.orderLines,
                        otherRecords: counts.otherRecords, runs: counts.runs))
            } else {
                print("Removed shop '\(name)' and its data: \(what).")
            }
        }
    }
}
