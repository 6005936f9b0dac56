import ArgumentParser
import Foundation
import Importer
import ServiceDesk
import ShopifyAdmin

extension ShopCommand {
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
