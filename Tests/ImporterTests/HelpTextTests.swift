import Foundation
import TestSupport
import Testing

/// `--help` of every command, as a person reads it in an 80-column terminal (help is written to a
/// pipe here, where swift-argument-parser wraps at 80).
@Suite("Help texts read well at 80 columns")
struct HelpTextTests {
    /// The test's environment with an 80-column terminal, whatever COLUMNS the caller exported.
    static var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["COLUMNS"] = "80"
        return env
    }

    /// Every command path, found by walking the SUBCOMMANDS sections from the root.
    static func commandPaths() throws -> [[String]] {
        var paths: [[String]] = [[]]
        var queue: [[String]] = [[]]
        while let path = queue.popLast() {
            let help = try runProcess(TestEnvironment.shopbulkBinary, path + ["--help"], environment: Self.environment).stdout
            guard let section = help.range(of: "\nSUBCOMMANDS:\n") else { continue }
            for line in help[section.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
                if line.isEmpty { break }
                guard line.hasPrefix("  "), !line.hasPrefix("   ") else { continue }
                let name = line.dropFirst(2).prefix { $0 != " " }
                guard name != "help" else { continue }
                let child = path + [String(name)]
                paths.append(child)
                queue.append(child)
            }
        }
        return paths
    }

    @Test("no line over 80 columns; no paragraph line ends early (a hard break the parser re-wraps)")
    func everyCommand() throws {
        let paths = try Self.commandPaths()
        #expect(paths.count >= 30, "found \(paths.count) commands")
        #expect(paths.contains(["shop", "add"]) && paths.contains(["db", "url"]) && paths.contains(["schema", "pull"]))
        for path in paths {
            let r = try runProcess(TestEnvironment.shopbulkBinary, path + ["--help"], environment: Self.environment)
            #expect(r.status == 0, "\(path): \(r.stderr)")
            let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            // The USAGE line is swift-argument-parser's, never wrapped: it lists every option, which
            // OPTIONS then shows wrapped. Everything else must fit.
            for line in lines where !line.hasPrefix("USAGE:") {
                #expect(line.count <= 80, "\(path): \(line.count) columns: \(line)")
            }
            // The overview and discussion: prose up to USAGE. A line followed by more of its paragraph
            // must be full, or the next line's first word would have fitted after it (the parser wraps
            // before column 80: at most 79 characters a line).
            let prose = lines.prefix { !$0.hasPrefix("USAGE:") }
            for (line, next) in zip(prose, prose.dropFirst()) where !line.isEmpty && !next.isEmpty {
                let word = next.prefix { $0 != " " }
                #expect(line.count + 1 + word.count > 79, "\(path): a ragged line before '\(word)': \(line)")
            }
        }
    }
}
