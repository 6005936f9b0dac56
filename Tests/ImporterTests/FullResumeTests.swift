import Foundation
import Importer
import Postgres
import TestSupport
import Testing

@Suite("A full import interrupted between two resources' completions", .enabled(if: TestEnvironment.databaseTestsEnabled))
struct FullResumeTests {
    @Test("the rerun finishes the open resource and submits nothing for the completed one; once both are complete, --full starts over")
    func betweenCompletions() async throws {
        let h = try await EngineHarness.make(customers: 10, orders: 20)
        do {
            let first = try await h.full()
            #expect(first.operationsSubmitted > 0)
            let submitted = h.sim.operations.count
            // As a crash leaves it when it comes after customers' completion was committed and before
            // orders' was (the fleet test saw it when the database restarted in that commit).
            let shop = h.shop.id
            try h.connection.query(
                "UPDATE sync_runs SET status = 'running', loaded_at = NULL WHERE shop_id = $1 AND kind = 'full' AND resource = 'orders' AND parent_run_id IS NULL",
                [shop])
            try h.connection.query("UPDATE sync_state SET full_import_done_at = NULL WHERE shop_id = $1 AND resource = 'orders'", [shop])
            let open =
                "SELECT count(*) FROM sync_runs WHERE shop_id = \(shop) AND kind = 'full' AND parent_run_id IS NULL AND status = 'running'"
            #expect(try h.count(open) == 1)
            #expect(try h.count("SELECT count(*) FROM sync_state WHERE shop_id = \(shop) AND full_import_done_at IS NOT NULL") == 1)

            let resumed = try await h.full()
            #expect(resumed.operationsSubmitted == 0)
            #expect(h.sim.operations.count == submitted, "the completed customers import was submitted again")
            #expect(try h.count(open) == 0)
            #expect(try h.count("SELECT count(*) FROM sync_state WHERE shop_id = \(shop) AND full_import_done_at IS NOT NULL") == 2)

            // Everything complete, nothing open: an explicit --full imports the whole history again.
            let parents = "SELECT count(*) FROM sync_runs WHERE shop_id = \(shop) AND kind = 'full' AND parent_run_id IS NULL"
            #expect(try h.count(parents) == 2)
            let again = try await h.full()
            #expect(again.operationsSubmitted > 0)
            #expect(h.sim.operations.count > submitted)
            // Both resources, each with a new parent, both complete again.
            #expect(try h.count(parents) == 4)
            #expect(try h.count(open) == 0)
            let marks = """
                SELECT count(*) FROM sync_state WHERE shop_id = \(shop) AND full_import_done_at IS NOT NULL AND last_run_id IN
                    (SELECT id FROM sync_runs WHERE shop_id = \(shop) AND kind = 'full' AND parent_run_id IS NULL AND status = 'loaded'
                     ORDER BY id DESC LIMIT 2)
                """
            #expect(try h.count(marks) == 2)
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }
}
