import ArgumentParser
import Foundation
import Importer
import ServiceDesk
import ShopifyAdmin

extension ShopCommand {
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
}
