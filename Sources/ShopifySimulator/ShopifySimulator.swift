import FlyingFox
import FlyingSocks
import Foundation

/// A local stand-in for a shop's GraphQL Admin API (bulk operations, OAuth client-credentials
/// grant, throttling, faults) and for the storage host that serves bulk result files.
///
/// ```swift
/// let sim = try await ShopifySimulator.start(SimulatorConfig(customers: 50, orders: 200))
/// defer { Task { await sim.stop() } }
/// // POST \(sim.baseURL)/admin/api/2026-01/graphql.json with X-Shopify-Access-Token: sim.legacyToken!
/// let expected = sim.shop          // the data a full export must produce
/// ```
public final class ShopifySimulator: Sendable {
    let core: ShopifySimulatorCore
    private let apiServer: HTTPServer
    private let filesServer: HTTPServer
    private let tasks: [Task<Void, any Error>]

    /// `http://127.0.0.1:PORT`: the "shop" (GraphQL at `/admin/api/{version}/graphql.json`,
    /// tokens at `/admin/oauth/access_token`, control at `/_sim/…`).
    public let baseURL: String
    /// `http://127.0.0.1:PORT2`: the storage host of result files (a different port, as Shopify's
    /// signed URLs point to another host).
    public let filesBaseURL: String
    public let port: Int
    public let filesPort: Int

    /// Whether `stop()` stops the listeners (false for a member of a `SimulatorFleet`, which shares them).
    private let ownsListeners: Bool

    init(
        core: ShopifySimulatorCore, api: HTTPServer, files: HTTPServer, tasks: [Task<Void, any Error>], port: Int, filesPort: Int,
        baseURL: String? = nil, filesBaseURL: String? = nil, ownsListeners: Bool = true
    ) {
        self.core = core
        self.apiServer = api
        self.filesServer = files
        self.tasks = tasks
        self.port = port
        self.filesPort = filesPort
        self.baseURL = baseURL ?? "http://127.0.0.1:\(port)"
        self.filesBaseURL = filesBaseURL ?? "http://127.0.0.1:\(filesPort)"
        self.ownsListeners = ownsListeners
    }

    /// Starts both listeners on free loopback ports.
    public static func start(_ config: SimulatorConfig = SimulatorConfig(), port: UInt16 = 0, filesPort: UInt16 = 0) async throws
        -> ShopifySimulator
    {
        let core = try ShopifySimulatorCore(config: config)
        let router = Router(core: core)
        let l = try await Listeners.start(
            bind: "127.0.0.1", port: port, filesPort: filesPort, api: { try await router.api($0) }, files: { try await router.files($0) })
        let (api, files, p1, p2) = (l.api, l.files, l.port, l.filesPort)
        core.state.locked {
            core.state.apiPort = p1
            core.state.filesPort = p2
            core.state.filesBaseURL = "http://127.0.0.1:\(p2)"
        }
        core.addFaults(config.faults)
        return ShopifySimulator(core: core, api: api, files: files, tasks: l.tasks, port: p1, filesPort: p2)
    }

    /// Stops both listeners and running operations; removes the data directory if the simulator made it.
    public func stop() async {
        core.state.locked { for op in core.state.operations where op.isActive { op.cancelRequested = true } }
        if ownsListeners {
            await apiServer.stop(timeout: 0.5)
            await filesServer.stop(timeout: 0.5)
            for t in tasks { t.cancel() }
        }
        if core.state.ownsDataDirectory {
            try? await Task.sleep(nanoseconds: 100_000_000)
            try? FileManager.default.removeItem(at: core.state.dataDirectory)
        }
    }

    // MARK: addresses and credentials

    /// `sim-shop.myshopify.com` (informational; requests go to `baseURL`).
    public var shopDomain: String { "\(core.state.config.shopName).myshopify.com" }
    public func graphQLURL(version: String = "2026-01") -> String { "\(baseURL)/admin/api/\(version)/graphql.json" }
    public var accessTokenURL: String { "\(baseURL)/admin/oauth/access_token" }
    public var apps: [SimulatedApp] { core.state.locked { core.state.config.apps } }
    /// The first configured legacy access token.
    public var legacyToken: String? { apps.first { $0.accessToken != nil }?.accessToken }
    public var dataDirectory: URL { core.state.dataDirectory }

    /// Issues a token for an app as the client-credentials grant would (no HTTP).
    public func issueToken(app name: String, lifetime: Double? = nil) -> String? {
        let now = core.state.clock.now()
        return core.state.locked {
            guard core.state.apps[name] != nil else { return nil }
            let token = "shpat_" + ShopifySimulatorCore.randomHex(32)
            core.state.tokens[token] = IssuedToken(app: name, expiresAt: now + (lifetime ?? core.state.config.tokenLifetime))
            return token
        }
    }

    /// Moves the simulator's clock forward (token and result-URL expiry without waiting).
    public func advanceClock(by seconds: Double) { core.state.clock.advance(by: seconds) }
    /// The simulator's current time (seconds since 1970).
    public var now: Double { core.state.clock.now() }

    // MARK: expected data and shop changes

    /// The shop as it is now: iterate `customers`, `orders` (with `lineItems`) for expected values.
    public var shop: ShopSnapshot { core.state.locked { core.state.shop } }

    /// Gives `orders` random live orders and `customers` random live customers a new `updatedAt` (now).
    @discardableResult public func touch(orders: Int = 0, customers: Int = 0) -> ShopChange {
        core.touch(orders: orders, customers: customers)
    }
    @discardableResult public func touch(orderIds: [Int64] = [], customerIds: [Int64] = []) -> ShopChange {
        core.touch(orderIds: orderIds, customerIds: customerIds)
    }
    /// Adds new records created (and updated) now.
    @discardableResult public func add(orders: Int = 0, customers: Int = 0) -> ShopChange { core.add(orders: orders, customers: customers) }
    /// Deletes random live records (they vanish from results).
    @discardableResult public func delete(orders: Int = 0, customers: Int = 0) -> ShopChange {
        core.delete(orders: orders, customers: customers)
    }
    @discardableResult public func delete(orderIds: [Int64] = [], customerIds: [Int64] = []) -> ShopChange {
        core.delete(orderIds: orderIds, customerIds: customerIds)
    }

    // MARK: faults

    /// Replaces the fault switches (foreign operations in `faults` start now).
    public func setFaults(_ faults: SimulatorFaults) { core.setFaults(faults) }
    /// Adds fault switches to the current ones.
    public func addFaults(_ faults: SimulatorFaults) { core.addFaults(faults) }
    public var faults: SimulatorFaults { core.state.locked { core.state.faults } }

    // MARK: observation

    /// Every request to the shop and the storage host (control endpoints excluded), secrets redacted.
    public var recordedRequests: [RecordedRequest] { core.state.locked { core.state.requests } }
    public func clearRecordedRequests() { core.state.locked { core.state.requests.removeAll() } }

    /// All bulk operations, oldest first.
    public var operations: [SimBulkOperation] {
        let now = core.state.clock.now()
        return core.state.locked { core.state.operations.map { core.state.publicView($0, now: now) } }
    }

    public func operation(_ gid: String) -> SimBulkOperation? { operations.first { $0.gid == gid } }

    /// Waits until the operation is no longer CREATED/RUNNING/CANCELING.
    public func waitForOperation(_ gid: String, timeout: Double = 30) async -> SimBulkOperation? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let op = operation(gid), !["CREATED", "RUNNING", "CANCELING"].contains(op.status) { return op }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        return operation(gid)
    }

    /// The app's cost bucket now: (currentlyAvailable, maximumAvailable, restoreRate).
    public func throttleStatus(app: String) -> (currentlyAvailable: Double, maximumAvailable: Double, restoreRate: Double) {
        let now = core.state.clock.now()
        return core.state.locked {
            let t = core.state.config.throttle
            let b = core.state.buckets[app] ?? Bucket(available: t.maximumAvailable, updated: now)
            return (min(t.maximumAvailable, b.available + (now - b.updated) * t.restoreRate), t.maximumAvailable, t.restoreRate)
        }
    }
}

/// The two listeners of a simulator (or of a fleet): the API and the storage host of result files,
/// started and listening, with the ports they got.
struct Listeners {
    let api: HTTPServer
    let files: HTTPServer
    let tasks: [Task<Void, any Error>]
    let port: Int
    let filesPort: Int

    static func start(
        bind: String, port: UInt16, filesPort: UInt16, api: @escaping @Sendable (HTTPRequest) async throws -> HTTPResponse,
        files: @escaping @Sendable (HTTPRequest) async throws -> HTTPResponse
    ) async throws -> Listeners {
        let apiServer = HTTPServer(
            address: try .inet(ip4: bind, port: port), timeout: 120, logger: .disabled, handler: ClosureHTTPHandler(api))
        let filesServer = HTTPServer(
            address: try .inet(ip4: bind, port: filesPort), timeout: 120, logger: .disabled, handler: ClosureHTTPHandler(files))
        let t1 = Task { try await apiServer.run() }
        let t2 = Task { try await filesServer.run() }
        try await apiServer.waitUntilListening()
        try await filesServer.waitUntilListening()
        func portOf(_ a: Socket.Address?) -> Int {
            if case .ip4(_, let p)? = a { return Int(p) }
            if case .ip6(_, let p)? = a { return Int(p) }
            return 0
        }
        return Listeners(
            api: apiServer, files: filesServer, tasks: [t1, t2], port: portOf(await apiServer.listeningAddress),
            filesPort: portOf(await filesServer.listeningAddress))
    }
}
