import ArgumentParser
import Foundation
import Importer
import ServiceDesk
import ShopifyAdmin

extension ShopCommand {
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
}
