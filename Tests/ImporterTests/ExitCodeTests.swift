import Foundation
import Importer
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
        #expect(failed.stderr.hasPrefix("Error [shop-not-found]: no shop named 'nobody'"), "\(failed.stderr)")
        let help = try await cli.run(["shop", "--help"])
        #expect(help.status == 0 && help.stdout.contains("USAGE: shopbulk shop"))
    }
}

@Suite("docs/error-codes.md lists every code the tool defines")
struct ErrorCodeTests {
    /// Every `Code("…")` of LoadError and ShopifyError, and every `ImportError(code: "…")`, read from
    /// the sources; ShopError's from its enum.
    static func definedCodes() throws -> Set<String> {
        var codes = Set(ShopError.Code.allCases.map(\.rawValue))
        let root = TestEnvironment.packageRoot + "/Sources/"
        for file in ["Loader/LoadError.swift", "ShopifyAdmin/Errors/ShopifyError.swift"] {
            let text = try String(contentsOfFile: root + file, encoding: .utf8)
            for match in text.matches(of: /Code\("([a-z-]+)"\)/) { codes.insert(String(match.1)) }
        }
        let engine = FileManager.default.enumerator(atPath: root + "Importer")!
        while let path = engine.nextObject() as? String {
            guard path.hasSuffix(".swift") else { continue }
            let text = try String(contentsOfFile: root + "Importer/" + path, encoding: .utf8)
            // swift format breaks long calls after the parenthesis: the code may be on the next line.
            for match in text.matches(of: /ImportError\(\s*code:\s*"([A-Z_]+)"/) { codes.insert(String(match.1)) }
            for match in text.matches(of: /errorCode: "([A-Z_]+)"/) { codes.insert(String(match.1)) }
        }
        return codes
    }

    @Test("each code is on the page, in backticks")
    func everyCodeDocumented() throws {
        let page = try String(contentsOfFile: TestEnvironment.packageRoot + "/docs/error-codes.md", encoding: .utf8)
        let codes = try Self.definedCodes()
        #expect(codes.count >= 40, "read \(codes.count) codes")
        #expect(codes.contains("shop-not-found") && codes.contains("malformed-line") && codes.contains("INCONSISTENT"))
        // Codes whose call is broken over two lines.
        #expect(codes.isSuperset(of: ["LOCKED", "LOCK_LOST", "NO_FULL_IMPORT", "UNFINISHED", "SIZE_MISMATCH", "INCOMPLETE"]))
        let missing = codes.filter { !page.contains("`\($0)`") }.sorted()
        #expect(missing.isEmpty, "not on docs/error-codes.md: \(missing)")
    }
}
