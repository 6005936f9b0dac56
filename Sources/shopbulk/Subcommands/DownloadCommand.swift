import ArgumentParser
import Foundation
import HTTP
import Importer
import ShopifyAdmin

/// `shopbulk download URL --out FILE`: fetch a bulk result file by its signed URL.
struct DownloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "Download a bulk result file from its signed URL (resumable), e.g. to load it later with `shopbulk load`.",
        discussion:
            "No credentials are sent: result URLs are pre-signed links. Find a run's URL with `shopbulk status --json` (valid 7 days).")

    @Argument(help: "The result URL (https://, or http:// on loopback).")
    var url: String

    @Option(
        help:
            "Where to write the file (- for standard output). A new or regular file is written under a temporary name (mode 0600) and renamed when complete; a device or FIFO is written directly."
    )
    var out: String

    @OptionGroup var output: OutputOptions

    func validate() throws {
        // The client's own rule for result URLs: https:// anywhere, http:// only on loopback, no user info.
        do { try ShopEndpoint.validateResultURL(url) } catch { throw ValidationError(error.message) }
    }

    func run() async throws {
        let logger = output.makeLogger()
        let sink = try FileSink(path: out)
        let started = Date()
        let client = HTTPClient(logger: logger)
        let url = self.url
        let result: Result<DownloadSummary, HTTPError> = await runOnThread {
            do throws(HTTPError) {
                return .success(
                    try client.download(url: url) { chunk in try sink.write(chunk) })
            } catch {
                return .failure(error)
            }
        }
        let summary: DownloadSummary
        do {
            summary = try result.get()
            try sink.commit()
        } catch {
            sink.abandon()
            throw error
        }
        let seconds = Date().timeIntervalSince(started)
        FileHandle.standardError.write(
            Data(
                "\(summary.bytesDelivered) bytes in \(String(format: "%.2f", seconds)) s (\(String(format: "%.0f", Double(summary.bytesDelivered) / 1e6 / max(seconds, 1e-9))) MB/s), \(summary.attempts) request(s)\n"
                    .utf8))
    }
}
