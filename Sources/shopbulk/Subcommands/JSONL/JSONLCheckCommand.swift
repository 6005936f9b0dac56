import ArgumentParser
import Foundation
import JSONL
import ShopifyAdmin

/// `shopbulk jsonl check FILE|-`: validates every line of a JSONL file, streaming.
struct JSONLCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate every line of a JSONL file (strict RFC 8259, UTF-8).",
        discussion: """
            Reads the file in 1 MiB chunks with constant memory. Exit status 0 when every line is \
            valid; 1 with the first error's line, column, byte offset and reason otherwise. \
            Prints lines, bytes and MB/s to stderr.
            """
    )

    @Argument(help: "The JSONL file, or - for standard input.")
    var file: String

    @Option(help: "The deepest nesting accepted.")
    var maxDepth: Int = 512

    @Option(help: "The longest line accepted, in bytes.")
    var maxLineLength: Int = 64 << 20

    func validate() throws {
        guard (1...(1 << 20)).contains(maxDepth) else { throw ValidationError("--max-depth must be in 1...1048576") }
        guard maxLineLength >= 1 else { throw ValidationError("--max-line-length must be positive") }
    }

    func run() throws {
        let fd: Int32 = file == "-" ? STDIN_FILENO : open(file, O_RDONLY)
        guard fd >= 0 else {
            report("error: cannot open \(file): \(String(cString: strerror(errno)))")
            throw ExitCode.failure
        }
        defer { if fd != STDIN_FILENO { close(fd) } }

        var parser = JSONLParser(options: .init(maxDepth: maxDepth, maxLineLength: maxLineLength))
        let chunkSize = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        let start = ContinuousClock.now
        do {
            while true {
                let n = read(fd, buffer.baseAddress, chunkSize)
                if n < 0 {
                    if errno == EINTR { continue }
                    report("error: cannot read \(file): \(String(cString: strerror(errno)))")
                    throw ExitCode.failure
                }
                if n == 0 { break }
                try parser.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<n])) { _ in }
            }
            try parser.finish { _ in }
        } catch let error as JSONLError {
            summary(parser, since: start)
            report("error: \(file): \(error)")
            throw ExitCode.failure
        }
        summary(parser, since: start)
    }

    private func summary(_ parser: JSONLParser, since start: ContinuousClock.Instant) {
        let elapsed = start.duration(to: .now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let mbps = seconds > 0 ? Double(parser.bytesRead) / seconds / 1e6 : 0
        report("\(parser.linesRead) lines, \(parser.bytesRead) bytes, \(String(format: "%.1f", mbps)) MB/s")
    }

    /// The message on stderr, escaped (`TerminalText`): file names and parser errors may quote the file.
    private func report(_ message: String) {
        FileHandle.standardError.write(Data((TerminalText.escape(message) + "\n").utf8))
    }
}
