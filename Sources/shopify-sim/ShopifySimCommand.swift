import ArgumentParser
import Foundation
import ShopifySimulator

/// `shopify-sim`: runs the Shopify Admin API simulator until SIGINT/SIGTERM.
@main
struct ShopifySimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shopify-sim",
        abstract: "A local Shopify GraphQL Admin API simulator (bulk operations, OAuth, throttling, faults).",
        discussion: "See docs/simulator.md. Listens on 127.0.0.1 only. Control endpoints live under /_sim/.")

    // shop
    @Option(help: "Number of generated customers.") var customers: Int = 1000
    @Option(help: "Number of generated orders (~2.5 line items each).") var orders: Int = 2500
    @Option(help: "Years of history the records spread over, ending 2026-06-01 (default: from 2022-01-01).")
    var historyYears: Double?
    @Option(help: "Seed of the generated shop (same seed, same shop).") var seed: UInt64 = 1
    @Option(help: "Shop name (<name>.myshopify.com).") var shopName: String = "sim-shop"
    @Option(help: "Directory for result files (default: a temporary directory).") var dataDir: String?
    @Option(
        help:
            "Serve this many shops behind one pair of listeners (a fleet): NAME0 … NAME<N-1>, seeds SEED … SEED+N-1, each under /shops/NAMEi (its base URL http://127.0.0.1:PORT/shops/NAMEi; control at …/_sim/). Default 1: one shop at /."
    ) var shops: Int = 1

    // listeners
    @Option(help: "Port of the shop listener (0: any free port).") var port: UInt16 = 0
    @Option(help: "Port of the result-file listener (0: any free port).") var filesPort: UInt16 = 0
    @Flag(help: "Stop when standard input reaches its end (a parent that started the simulator exited or closed it).")
    var stopOnStdinEof = false

    // apps
    @Option(help: "Legacy Admin API access token to accept (default: SHOPIFY_SIM_TOKEN, else a fixed one).") var token: String?
    @Option(help: "Client ID of the Dev Dashboard app (client-credentials grant).") var clientId: String = "sim-client-id-0001"
    @Option(help: "Client secret of the Dev Dashboard app.") var clientSecret: String = "shpss_sim_client_secret_000000000000"
    @Option(help: "Comma-separated scopes granted to both apps.") var scopes: String = "read_customers,read_orders"
    @Flag(help: "The Dev Dashboard app belongs to another organisation (grant fails with shop_not_permitted).") var crossOrg = false

    // timing
    @Option(help: "Bulk operation speed in objects per second (default: unlimited).") var rowsPerSecond: Double?
    @Option(help: "Spread each bulk operation over about this many seconds.") var operationDuration: Double?
    @Option(help: "Seconds an operation stays CREATED.") var startDelay: Double = 0.02
    @Option(help: "Lifetime of client-credentials tokens, seconds.") var tokenLifetime: Double = 86399
    @Option(help: "Lifetime of result URLs, seconds.") var urlLifetime: Double = 7 * 86400
    @Option(help: "Versions older than this fall forward to it (e.g. 2025-10).") var oldestVersion: String?
    @Option(help: "Concurrent bulk query operations per app from 2026-01.") var concurrentLimit: Int = 5
    @Option(help: "Cost bucket size.") var throttleMax: Double = 1000
    @Option(help: "Cost bucket restore rate per second.") var throttleRestore: Double = 50

    // faults
    @Option(help: "Fail the Nth operation: N:INTERNAL_SERVER_ERROR|TIMEOUT|FAILED[:afterObjects] (FAILED: null errorCode). Repeatable.")
    var failOperation: [String] = []
    @Option(help: "Shopify cancels the Nth operation: N[:afterObjects]. Repeatable.") var cancelOperation: [String] = []
    @Option(help: "The Nth operation runs slowly: N:objectsPerSecond. Repeatable.") var slowOperation: [String] = []
    @Option(help: "The Nth operation's last line is cut off: N. Repeatable.") var truncateOperation: [Int] = []
    @Option(help: "Corrupt line L of the Nth operation's file: N:L. Repeatable.") var corruptOperation: [String] = []
    @Option(help: "A foreign operation of the same app holds slot(s): SECONDS[:SLOTS]. Repeatable.") var foreignOperation: [String] = []
    @Option(help: "HTTP errors on GraphQL: STATUS:next=K or STATUS:fraction=F, optional :retry-after=S. Repeatable.") var httpFault:
        [String] = []
    @Option(help: "Drop result downloads after BYTES, for the next COUNT downloads: BYTES[:COUNT]. Repeatable.") var dropDownload:
        [String] = []

    @Flag(help: "Log each request to stderr.") var logRequests = false
    @Option(
        help:
            "The real Admin API schema (SDL file): validate every request against it, serve introspection from it, answer fields the simulator does not model with null (or a type-correct value where non-null)."
    ) var schema: String?
    @Flag(help: "Print the start-up summary as JSON.") var json = false

    func validate() throws {
        if customers < 0 || orders < 0 { throw ValidationError("--customers and --orders must be >= 0") }
        if !(1...10_000).contains(shops) { throw ValidationError("--shops must be 1…10000") }
        if shops > 1 && dataDir != nil { throw ValidationError("--data-dir is for one shop (each shop of a fleet writes its own files)") }
        _ = try faults()
    }

    func faults() throws -> SimulatorFaults {
        var f = SimulatorFaults()
        func parts(_ s: String) -> [String] { s.split(separator: ":").map(String.init) }
        for s in failOperation {
            let p = parts(s)
            guard p.count >= 2, let n = Int(p[0]), let kind = OperationFault.Kind(rawValue: p[1].uppercased()),
                kind == .internalServerError || kind == .timeout || kind == .failedWithoutCode
            else {
                throw ValidationError("--fail-operation expects N:INTERNAL_SERVER_ERROR|TIMEOUT|FAILED[:afterObjects], got \(s)")
            }
            f.operations.append(OperationFault(operation: n, kind: kind, afterObjects: p.count > 2 ? Int(p[2]) : nil))
        }
        for s in cancelOperation {
            let p = parts(s)
            guard let n = Int(p[0]) else { throw ValidationError("--cancel-operation expects N[:afterObjects]") }
            f.operations.append(OperationFault(operation: n, kind: .canceled, afterObjects: p.count > 1 ? Int(p[1]) : nil))
        }
        for s in slowOperation {
            let p = parts(s)
            guard p.count == 2, let n = Int(p[0]), let r = Double(p[1]) else {
                throw ValidationError("--slow-operation expects N:objectsPerSecond")
            }
            f.operations.append(OperationFault(operation: n, kind: .slow, rowsPerSecond: r))
        }
        for n in truncateOperation { f.operations.append(OperationFault(operation: n, kind: .truncatedLastLine)) }
        for s in corruptOperation {
            let p = parts(s)
            guard p.count == 2, let n = Int(p[0]), let l = Int(p[1]) else { throw ValidationError("--corrupt-operation expects N:LINE") }
            f.operations.append(OperationFault(operation: n, kind: .corruptLine, line: l))
        }
        for s in foreignOperation {
            let p = parts(s)
            guard let secs = Double(p[0]) else { throw ValidationError("--foreign-operation expects SECONDS[:SLOTS]") }
            f.foreignOperations.append(ForeignOperation(seconds: secs, slots: p.count > 1 ? Int(p[1]) ?? 1 : 1))
        }
        for s in httpFault {
            let p = parts(s)
            guard let status = Int(p[0]) else { throw ValidationError("--http-fault expects STATUS:next=K|fraction=F[:retry-after=S]") }
            var h = HTTPFault(status: status)
            for kv in p.dropFirst() {
                let x = kv.split(separator: "=", maxSplits: 1).map(String.init)
                guard x.count == 2 else { throw ValidationError("--http-fault: bad part \(kv)") }
                switch x[0] {
                case "next", "count": h.count = Int(x[1])
                case "fraction": h.fraction = Double(x[1])
                case "retry-after": h.retryAfter = Int(x[1])
                default: throw ValidationError("--http-fault: unknown key \(x[0])")
                }
            }
            if h.count == nil && h.fraction == nil { throw ValidationError("--http-fault needs next=K or fraction=F") }
            f.http.append(h)
        }
        for s in dropDownload {
            let p = parts(s)
            guard let b = Int(p[0]) else { throw ValidationError("--drop-download expects BYTES[:COUNT]") }
            f.downloadDrops.append(DownloadDrop(afterBytes: b, count: p.count > 1 ? Int(p[1]) ?? 1 : 1))
        }
        return f
    }

    /// The access token: --token, else SHOPIFY_SIM_TOKEN (kept out of argv by a parent that starts
    /// the simulator), else a fixed one.
    var legacyToken: String {
        if let token { return token }
        if let fromEnvironment = ProcessInfo.processInfo.environment["SHOPIFY_SIM_TOKEN"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return "shpat_sim_legacy_token_0000000000000000"
    }

    func run() async throws {
        let token = legacyToken
        let scopeList = scopes.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        var config = SimulatorConfig(
            seed: seed, customers: customers, orders: orders,
            apps: [
                SimulatedApp(name: "legacy-app", accessToken: token, scopes: scopeList),
                SimulatedApp(
                    name: "dev-dashboard-app", clientId: clientId, clientSecret: clientSecret, scopes: scopeList,
                    crossOrganization: crossOrg),
            ])
        config.shopName = shopName
        config.historyYears = historyYears
        config.dataDirectory = dataDir.map { URL(fileURLWithPath: $0) }
        if let r = rowsPerSecond { config.speed = .rowsPerSecond(r) } else if let d = operationDuration { config.speed = .duration(d) }
        config.startDelay = startDelay
        config.tokenLifetime = tokenLifetime
        config.resultURLLifetime = urlLifetime
        config.oldestAccessibleVersion = oldestVersion
        config.concurrentOperationLimit = concurrentLimit
        config.throttle = ThrottleConfig(maximumAvailable: throttleMax, restoreRate: throttleRestore)
        config.faults = try faults()
        config.logRequests = logRequests
        config.schemaPath = schema

        if shops > 1 {
            try await runFleet(config, scopes: scopeList)
            return
        }
        let sim = try await ShopifySimulator.start(config, port: port, filesPort: filesPort)
        if json {
            let summary: [String: Any] = [
                "baseURL": sim.baseURL, "filesBaseURL": sim.filesBaseURL, "shop": sim.shopDomain,
                "graphqlURL": sim.graphQLURL(), "accessTokenURL": sim.accessTokenURL,
                "legacyToken": token, "clientId": clientId, "clientSecret": clientSecret, "scopes": scopeList,
                "customers": customers, "orders": orders, "seed": seed,
            ]
            let data = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(
                """
                shopify-sim listening
                  base URL:        \(sim.baseURL)
                  GraphQL:         \(sim.graphQLURL(version: "{version}"))
                  token endpoint:  \(sim.accessTokenURL)
                  result files:    \(sim.filesBaseURL)
                  shop:            \(sim.shopDomain) (seed \(seed), \(customers) customers, \(orders) orders)
                  legacy app:      X-Shopify-Access-Token: \(token)
                  dev dashboard:   client_id=\(clientId) client_secret=\(clientSecret)
                  scopes:          \(scopeList.joined(separator: ","))
                  control:         \(sim.baseURL)/_sim/state
                Press Ctrl-C to stop.
                """)
        }
        fflush(nil)
        await waitForTermination()
        await sim.stop()
    }

    /// `--shops N`: N shops behind one pair of listeners (`SimulatorFleet`), each its own simulator.
    func runFleet(_ config: SimulatorConfig, scopes scopeList: [String]) async throws {
        let configs = (0..<shops).map { i in
            var c = config
            c.seed = seed &+ UInt64(i)
            c.shopName = "\(shopName)\(i)"
            return c
        }
        let fleet = try await SimulatorFleet.start(configs, port: port, filesPort: filesPort)
        if json {
            let summary: [String: Any] = [
                "shops": fleet.shops.map { ["name": $0.shopDomain, "baseURL": $0.baseURL, "filesBaseURL": $0.filesBaseURL] },
                "port": fleet.port, "filesPort": fleet.filesPort, "legacyToken": legacyToken, "clientId": clientId,
                "clientSecret": clientSecret,
                "scopes": scopeList, "customers": customers, "orders": orders, "seed": seed,
            ]
            let data = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        } else {
            let first = fleet.shops[0], last = fleet.shops[fleet.shops.count - 1]
            print(
                """
                shopify-sim listening: \(shops) shops (\(customers) customers, \(orders) orders each; seeds \(seed)…\(seed &+ UInt64(shops - 1)))
                  base URLs:       \(first.baseURL) … \(last.baseURL)
                  result files:    http://127.0.0.1:\(fleet.filesPort)/shops/NAME/…
                  shops:           \(first.shopDomain) … \(last.shopDomain)
                  legacy app:      X-Shopify-Access-Token: \(legacyToken)
                  control:         BASE_URL/_sim/state
                Press Ctrl-C to stop.
                """)
        }
        fflush(nil)
        await waitForTermination()
        await fleet.stop()
    }

    func waitForTermination() async {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        await withCheckedContinuation { (cont: CheckedContinuation<Void, Never>) in
            let once = Once(cont)
            if stopOnStdinEof {
                Thread {
                    var byte: UInt8 = 0
                    while read(0, &byte, 1) > 0 {}
                    once.resume()
                }.start()
            }
            for sig in [SIGINT, SIGTERM] {
                let src = DispatchSource.makeSignalSource(signal: sig, queue: .main)
                src.setEventHandler { once.resume() }
                src.resume()
                Once.keep(src)
            }
        }
    }
}

final class Once: @unchecked Sendable {
    private var cont: CheckedContinuation<Void, Never>?
    private let lock = NSLock()
    nonisolated(unsafe) static var sources: [any DispatchSourceSignal] = []

    init(_ c: CheckedContinuation<Void, Never>) { cont = c }

    func resume() {
        lock.lock()
        let c = cont
        cont = nil
        lock.unlock()
        c?.resume()
    }

    static func keep(_ s: any DispatchSourceSignal) { sources.append(s) }
}
