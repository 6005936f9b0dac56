import ArgumentParser
import EmbeddedPostgres
import Foundation
import Importer
import ServiceDeskServer

/// `shopbulk serve`: the read-only HTTP server for service desks (see the README, "Serving ticket screens").
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve lookups, a ticket-screen panel, /healthz and /metrics over HTTP (read-only).",
        discussion: """
            Every route but /healthz needs an API key (`shopbulk apikey create`) as Authorization: Bearer KEY; \
            the panel also takes a signed link from POST /v1/panel-links. Stops on SIGTERM or SIGINT after the \
            requests in flight have been answered. The API is described in docs/openapi.yaml.
            """)

    @Option(help: "Address and port to listen on (ADDR:PORT; port 0 picks a free one).")
    var listen = "127.0.0.1:8080"

    @Option(
        name: .customLong("frame-ancestors"),
        help: "An origin allowed to embed the panel in an iframe (e.g. https://desk.example.com); repeat for more. Default: none.")
    var frameAncestors: [String] = []

    @Option(name: .customLong("public-url"), help: "The scheme, host and port panel links start with (default: http://LISTEN).")
    var publicURL: String?

    @Option(
        name: .customLong("panel-key-file"),
        help:
            "File with the panel links' HMAC key (64+ hex digits); created with a random key when missing (default: DATA_HOME/panel-link.key)."
    )
    var panelKeyFile: String?

    @Option(
        name: .customLong("db-connections"),
        help: "Database connections for requests (1...64; default: the cores, 2 to 8); more requests wait in one queue.")
    var databaseConnections = ServerConfiguration.defaultDatabaseConnections

    @Option(name: .customLong("stale-after"), help: "Seconds after which a shop's last import is stale in GET /v1/shops.")
    var staleAfter = 86_400

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        do {
            _ = try ServerConfiguration.parseListen(listen)
            for origin in frameAncestors { try ServerConfiguration.validateOrigin(origin) }
        } catch let error as ServerConfigurationError {
            throw ValidationError(error.message)
        }
        guard (1...64).contains(databaseConnections) else { throw ValidationError("--db-connections must be in 1...64") }
        guard staleAfter > 0 else { throw ValidationError("--stale-after must be positive") }
        if let publicURL, !(publicURL.hasPrefix("http://") || publicURL.hasPrefix("https://")) {
            throw ValidationError("--public-url must start with http:// or https://")
        }
    }

    func run() async throws {
        let logger = output.makeLogger("shopbulk.serve")
        let (host, port) = try ServerConfiguration.parseListen(listen)
        let url = try database.connectionString(logger: logger)
        let keyPath =
            panelKeyFile ?? ProcessInfo.processInfo.environment["SHOPBULK_PANEL_KEY_FILE"]
            ?? (LocalPostgres.defaultHome() + "/panel-link.key")
        let signer = try PanelLinkSigner.loadOrCreate(path: keyPath)
        var configuration = ServerConfiguration(
            host: host, port: port, databaseURL: url, migrationsDirectory: try database.migrationsPath(), frameAncestors: frameAncestors,
            publicURL: publicURL, databaseConnections: databaseConnections, staleAfterSeconds: staleAfter)
        let server = try ServiceDeskServer(configuration: configuration, signer: signer, logger: logger)
        try await server.run { bound in
            // Tests and scripts read this line for the port (`--listen 127.0.0.1:0`).
            let shown = host.contains(":") ? "[\(host)]" : host
            FileHandle.standardOutput.write(Data("listening on http://\(shown):\(bound)\n".utf8))
            logger.info("listening", metadata: ["address": "\(shown):\(bound)"])
        }
        configuration.port = port
    }
}
