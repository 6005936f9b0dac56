import Foundation
import Postgres
import ShopifyAdmin
import TestSupport
import Testing

@testable import Importer

@Suite("Security: control characters and bidi overrides from outside are escaped for humans")
struct TerminalTextTests {
    static let hostile = "Eve\u{1B}[2J\u{1B}]0;owned\u{07}\nContact: Fake Person <ceo@example.com>"

    @Test("C0, DEL, C1, line separators and bidi controls become visible escapes; the rest stays")
    func escapes() {
        #expect(TerminalText.escape(Self.hostile) == #"Eve\x1b[2J\x1b]0;owned\x07\nContact: Fake Person <ceo@example.com>"#)
        #expect(TerminalText.escape("a\tb\rc\u{7F}d\u{9B}e\u{0}") == #"a\tb\rc\x7fd\x9be\x00"#)
        #expect(
            TerminalText.escape("invoice\u{202E}fdp.exe\u{2066}x\u{2069}\u{200F}\u{061C}\u{2028}")
                == #"invoice\u{202E}fdp.exe\u{2066}x\u{2069}\u{200F}\u{61C}\u{2028}"#)
        #expect(TerminalText.escape("Zoë Ø 30 cm — 東京 \\n") == "Zoë Ø 30 cm — 東京 \\n")
        #expect(TerminalText.escape("line one\nline two\u{1B}", keepingNewlines: true) == "line one\nline two\\x1b")
    }

    @Test("tables and progress lines escape every cell")
    func tablesAndProgress() {
        var table = TextTable(["NAME", "NOTE"])
        table.append(["a\u{1B}[31mred", "two\nlines"])
        #expect(table.render() == "NAME          NOTE\n" + #"a\x1b[31mred  two\nlines"# + "\n")
        var entry = ProgressBoard.Entry(label: "shop \u{1B}]0;title\u{07}")
        entry.status = "running\u{202E}"
        let line = ProgressBoard.format(entry, now: Date())
        #expect(line.hasPrefix(#"  shop \x1b]0;title\x07"#))
        #expect(line.contains(#"running\u{202E}"#))
        #expect(!line.unicodeScalars.contains { TerminalText.needsEscape($0) })
        // The resource's line too, and the picture cut to a narrow terminal.
        for width in [300, 40] {
            let picture = ProgressBoard.lines([entry], width: width)
            #expect(picture.first?.hasPrefix(#"shop \x1b]0;title\x07"#) == true)
            #expect(picture.allSatisfy { !$0.unicodeScalars.contains { TerminalText.needsEscape($0) } && $0.count < width })
        }
    }
}

@Suite("Security: lookup and status print hostile shop data safely", .serialized, .enabled(if: TestEnvironment.databaseTestsEnabled))
struct TerminalOutputCommandTests {
    @Test("lookup: a hostile display name, address and line item cannot clear the screen or forge a line; --json is exact")
    func lookupHostileName() async throws {
        let h = try LoaderHarness()
        try h.load(
            Lines.json([
                "__typename": "Customer", "id": "gid://shopify/Customer/7100", "displayName": TerminalTextTests.hostile,
                "firstName": "Eve", "lastName": "X", "defaultEmailAddress": ["emailAddress": "eve@example.com"], "state": "ENABLED",
                "note": "call \u{202E}gnirts", "tags": ["vip\u{1B}[8m"], "numberOfOrders": "1",
                "defaultAddress": ["address1": "Main St 1\u{1B}[1A", "city": "Bern", "country": "Switzerland"],
                "createdAt": "2024-01-02T03:04:05Z", "updatedAt": "2025-05-01T00:00:00Z",
            ]), query: h.customers)
        try h.load(
            [
                LookupData.order(5100, customer: 7100, email: "eve@example.com", createdAt: "2025-01-01T09:00:00Z"),
                Lines.lineItem(9100, order: 5100, sku: "S\u{07}KU", title: "Tee\u{1B}[2K\rFREE"),
            ].joined(separator: "\n"))
        let cli = ShopbulkCLI(db: h.db)

        let table = try await cli.run(["lookup", "test", "--email", "eve@example.com"])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(!table.stdout.unicodeScalars.contains { $0 != "\n" && TerminalText.needsEscape($0) })
        let lines = table.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first == #"Contact: Eve\x1b[2J\x1b]0;owned\x07\nContact: Fake Person <ceo@example.com> <eve@example.com>"#)
        #expect(lines.filter { $0.hasPrefix("Contact:") }.count == 1)
        #expect(table.stdout.contains(#"  note: call \u{202E}gnirts"#))
        #expect(table.stdout.contains(#"  tags: vip\x1b[8m"#))
        #expect(table.stdout.contains(#"Main St 1\x1b[1A"#))
        #expect(table.stdout.contains(#"Tee\x1b[2K\rFREE"#))
        #expect(table.stdout.contains(#"S\x07KU"#))

        let json = try await cli.run(["lookup", "test", "--email", "eve@example.com", "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try #require(json.json as? [String: Any])
        let person = try #require((object["people"] as? [[String: Any]])?.first)
        #expect(person["name"] as? String == TerminalTextTests.hostile)
        #expect(person["note"] as? String == "call \u{202E}gnirts")

        // Errors echo what was typed, escaped.
        let miss = try await cli.run(["lookup", "test", "--email", "x\u{1B}[2J@example.com"])
        #expect(miss.status == 1)
        #expect(miss.stderr == #"Error [not-found]: no customer or order with e-mail x\x1b[2J@example.com in shop test"# + "\n")
    }

    @Test("status: an error message stored from a hostile host is escaped in the table and the error lines")
    func statusHostileError() async throws {
        let h = try LoaderHarness()
        let ledger = RunLedger(connection: try h.db.connect())
        let run = try ledger.create(
            .init(shopID: h.shop.id, kind: "load", resource: "orders", queryName: "orders", queryHash: "x", status: .loading))
        try ledger.fail(run, code: "download", message: "storage said \u{1B}]0;pwned\u{07}\nrun 999 (forged): ok \u{202E}")
        let cli = ShopbulkCLI(db: h.db)
        let status = try await cli.run(["status"])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(!status.stdout.unicodeScalars.contains { $0 != "\n" && TerminalText.needsEscape($0) })
        #expect(
            status.stdout.contains(#": download: storage said \x1b]0;pwned\x07\nrun 999 (forged): ok \u{202E}"#), "\(status.stdout)")
        let json = try await cli.run(["status", "--json"])
        #expect(json.stdout.contains(#"storage said \u001b]0;pwned\u0007\nrun 999 (forged): ok \#u{202E}"#))
    }
}
