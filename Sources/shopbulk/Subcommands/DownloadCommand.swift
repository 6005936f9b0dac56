import ArgumentParser
import Foundation
import HTTP
import Importer

/// `shopbulk download URL --out FILE`: fetch a bulk result file by its signed URL.
struct DownloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "Download a bulk result file from its signed URL (resumable), e.g. to load it later with `shopbulk load`.",
        discussion:
            "No credentials are sent: result URLs are pre-signed links. Find a run's URL with `shopbulk status --json` (valid 7 days).")

    @Argument(help: "The result URL (https://, or http:// on loopback).")
    var url: String

    @Option(help: "Where to write the file (- for standard output).")
    var out: String

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard
            url.hasPrefix("https://") || url.hasPrefix("http://127.0.0.1") || url.hasPrefix("http://localhost")
                || url.hasPrefix("http://[::1]")
        else {
            throw ValidationError("the URL must use https:// (http:// only for loopback addresses)")
        }
    }

    func run() async throws {
        let logger = output.makeLogger()
        let fd = out == "-" ? 1 : open(out, O_CREAT | O_TRUNC | O_WRONLY, 0o644)
        guard fd >= 0 else { throw ShopError(message: "cannot write \(out): \(String(cString: strerror(errno)))") }
        defer { if fd != 1 { close(fd) } }
        let started = Date()
        let client = HTTPClient(logger: logger)
        let url = self.url
        let result: Result<DownloadSummary, HTTPError> = await runOnThread {
            do throws(HTTPError) {
                return .success(
                    try client.download(url: url) { chunk in
                        var offset = 0
                        while offset < chunk.count {
                            let n = write(fd, chunk.baseAddress! + offset, chunk.count - offset)
                            if n < 0 {
                                if errno == EINTR { continue }
                                throw ShopError(message: "writing failed: \(String(cString: strerror(errno)))")
                            }
                            offset += n
                        }
                    })
            } catch {
                return .failure(error)
            }
        }
        let summary = try result.get()
        let seconds = Date().timeIntervalSince(started)
        FileHandle.standardError.write(
            Data(
                "\(summary.bytesDelivered) bytes in \(String(format: "%.2f", seconds)) s (\(String(format: "%.0f", Double(summary.bytesDelivered) / 1e6 / max(seconds, 1e-9))) MB/s), \(summary.attempts) request(s)\n"
                    .utf8))
    }
}
