import Foundation
import TestSupport
import Testing

/// The exit codes of README's table: 2 for every kind of usage error swift-argument-parser knows,
/// 1 for a command that ran and failed, 0 for help.
@Suite("shopbulk exit codes: usage errors are 2, failures 1, help 0", .enabled(if: TestEnvironment.databaseTestsEnabled))
struct ExitCodeTests {
    @Test("unknown option, missing argument, bad value, a ValidationError; a failing command; --help")
    func codes() async throws {
        let cli = ShopbulkCLI(db: try TestDatabase(), environment: ["SB_EXIT_T": "x"])
        let usage: [[String]] = [
            ["shop", "list", "--no-such-option"],
            ["lookup"],
            ["shop", "add", "x", "--store", "x.myshopify.com", "--customers-as", "robot", "--no-verify"],
            ["shop", "add", "x", "--store", "x.myshopify.com", "--token-env", "SB_EXIT_T", "--token-file", "/tmp/t", "--no-verify"],
            ["no-such-command"],
        ]
        for arguments in usage {
            let r = try await cli.run(arguments)
            #expect(r.status == 2, "\(arguments): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("Usage: shopbulk") || r.stderr.contains("Error:"), "\(arguments): \(r.stderr)")
        }
        let failed = try await cli.run(["shop", "enable", "nobody"])
        #expect(failed.status == 1, "\(failed.stderr)")
        #expect(failed.stderr.contains("nobody"))
        let help = try await cli.run(["shop", "--help"])
        #expect(help.status == 0 && help.stdout.contains("USAGE: shopbulk shop"))
    }
}
