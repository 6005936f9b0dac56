import Foundation
import HTTP
import Logging
import ShopifySimulator

@testable import ShopifyAdmin

let legacyToken = "shpat_sim_legacy_token_0000000000000000"
let clientID = "sim-client-id-0001"
let clientSecret = "shpss_sim_client_secret_000000000000"

let ordersQuery = """
    {
      orders(query: "created_at:>='2000-01-01'", sortKey: UPDATED_AT) {
        edges { node { __typename id name updatedAt
          lineItems { edges { node { __typename id title quantity } } }
        } }
      }
    }
    """

enum AuthKind: Sendable { case legacy, clientCredentials }

/// Configuration that keeps tests fast: short backoffs, quick polling, small slot waits.
func fastConfiguration() -> ShopifyAdminClient.Configuration {
    ShopifyAdminClient.Configuration(
        retry: RetryPolicy(
            maxAttempts: 4, maxThrottledRetries: 40, maxTotalTime: .seconds(30), initialBackoff: .milliseconds(50),
            maxBackoff: .milliseconds(400)),
        polling: BulkPollingPolicy(initialInterval: .milliseconds(30), maximumInterval: .milliseconds(200), ageFraction: 0.05),
        slotWait: BulkSlotWaitPolicy(initialWait: .milliseconds(100), maximumWait: .milliseconds(400), maxTotalWait: .seconds(20)),
        download: DownloadPolicy(maxAttemptsWithoutProgress: 4, initialBackoff: .milliseconds(10), maxBackoff: .milliseconds(100)))
}

/// A running simulator, a log capture, and clients for it.
struct Harness: Sendable {
    let sim: ShopifySimulator
    let logs = LogCapture()

    func endpoint(version: String = "2026-01") throws -> ShopEndpoint {
        try ShopEndpoint(store: "sim-shop", apiVersion: version, apiBase: sim.baseURL)
    }

    func client(
        _ auth: AuthKind = .legacy, version: String = "2026-01", token: String = legacyToken, secret: String = clientSecret,
        configure: (inout ShopifyAdminClient.Configuration) -> Void = { _ in }
    ) throws -> ShopifyAdminClient {
        var configuration = fastConfiguration()
        configure(&configuration)
        let credentials: ShopifyCredentials =
            switch auth {
            case .legacy: .accessToken(Secret(token))
            case .clientCredentials: .clientCredentials(clientID: clientID, clientSecret: Secret(secret))
            }
        return ShopifyAdminClient(
            endpoint: try endpoint(version: version), credentials: credentials, configuration: configuration, logger: logs.logger())
    }

    /// Every secret the simulator knows must be absent from the log.
    func assertNoSecretsInLogs() -> Bool {
        let text = logs.allText
        return !text.contains(legacyToken) && !text.contains(clientSecret) && !text.contains("shpat_") && !text.contains("shpss_")
            && !text.contains("signature=")
    }
}

func withSimulator(
    _ config: SimulatorConfig = SimulatorConfig(customers: 20, orders: 40), configure: (inout SimulatorConfig) -> Void = { _ in },
    _ body: (Harness) async throws -> Void
) async throws {
    var config = config
    configure(&config)
    let sim = try await ShopifySimulator.start(config)
    do {
        try await body(Harness(sim: sim))
    } catch {
        await sim.stop()
        throw error
    }
    await sim.stop()
}

/// Collects downloaded bytes (the callbacks run on the transfer thread, one after the other).
final class ByteSink: @unchecked Sendable {
    private let lock = NSLock()
    private var _bytes: [UInt8] = []
    private var _progress: [DownloadProgress] = []
    var bytes: [UInt8] { lock.lock(); defer { lock.unlock() }; return _bytes }
    var progress: [DownloadProgress] { lock.lock(); defer { lock.unlock() }; return _progress }
    func append(_ chunk: UnsafeRawBufferPointer) { lock.lock(); _bytes.append(contentsOf: chunk); lock.unlock() }
    func record(_ p: DownloadProgress) { lock.lock(); _progress.append(p); lock.unlock() }
}

extension ShopifyAdminClient {
    func downloadAll(_ url: String, fileSize: Int64? = nil) async throws -> (ByteSink, DownloadSummary) {
        let sink = ByteSink()
        let summary = try await download(url: url, fileSize: fileSize, onProgress: { sink.record($0) }, onChunk: { sink.append($0) })
        return (sink, summary)
    }
}

func fileBytes(_ url: URL?) -> [UInt8] {
    guard let url, let data = FileManager.default.contents(atPath: url.path) else { return [] }
    return Array(data)
}

func shopifyError(_ body: () async throws -> Void) async -> ShopifyError? {
    do {
        try await body()
        return nil
    } catch let e as ShopifyError {
        return e
    } catch {
        return ShopifyError(code: .init("unexpected"), message: "\(error)")
    }
}
