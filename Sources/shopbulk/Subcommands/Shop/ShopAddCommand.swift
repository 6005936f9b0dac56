import ArgumentParser
import Foundation
import Importer
import ServiceDesk
import ShopifyAdmin

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
}
