import FlyingFox
import FlyingSocks
import Foundation

/// Many simulated shops behind one pair of listeners (the shop API and the result-file host), for
/// fleet tests and benchmarks: shop NAME answers under `/shops/NAME` on both, so its API base is
/// `http://HOST:PORT/shops/NAME` and its result URLs `http://HOST:PORT2/shops/NAME/bulk/…`. Each
/// member is a whole `ShopifySimulator` (its own data, operations, faults and request record).
///
/// `bindAddress` is where the listeners bind (127.0.0.1 by default; another local address to be
/// reached over a real network); `advertisedHost` is the host the URLs name (default: the bind address).
public final class SimulatorFleet: Sendable {
    /// The members, in the order of the configurations given (`config.shopName` names each).
    public let shops: [ShopifySimulator]
    public let port: Int
    public let filesPort: Int
    private let api: HTTPServer
    private let files: HTTPServer
    private let tasks: [Task<Void, any Error>]

    private init(shops: [ShopifySimulator], port: Int, filesPort: Int, api: HTTPServer, files: HTTPServer, tasks: [Task<Void, any Error>]) {
        self.shops = shops
        self.port = port
        self.filesPort = filesPort
        self.api = api
        self.files = files
        self.tasks = tasks
    }

    /// Starts one simulator per configuration; shop names must be distinct path segments.
    public static func start(
        _ configs: [SimulatorConfig], bindAddress: String = "127.0.0.1", advertisedHost: String? = nil, port: UInt16 = 0,
        filesPort: UInt16 = 0
    ) async throws -> SimulatorFleet {
        var routers: [String: Router] = [:]
        var cores: [(String, ShopifySimulatorCore)] = []
        for config in configs {
            let name = config.shopName
            guard !name.isEmpty, !name.contains("/"), routers[name] == nil else {
                throw SimulatorFleetError(message: "shop names of a fleet must be distinct and without '/': '\(name)'")
            }
            let core = try ShopifySimulatorCore(config: config)
            routers[name] = Router(core: core)
            cores.append((name, core))
        }
        let table = routers
        /// The member named by `/shops/NAME/…`, and the request with the rest of the path.
        @Sendable func member(_ req: HTTPRequest) -> (Router, HTTPRequest)? {
            let parts = req.path.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: true)
            guard parts.count >= 2, parts[0] == "shops", let router = table[String(parts[1])] else { return nil }
            var inner = req
            inner.path = parts.count == 3 ? "/" + parts[2] : "/"
            return (router, inner)
        }
        let notFound = HTTPResponse(statusCode: .notFound, body: Data(#"{"errors":"Not Found"}"#.utf8))
        let l = try await Listeners.start(
            bind: bindAddress, port: port, filesPort: filesPort,
            api: { req in
                guard let (router, inner) = member(req) else { return notFound }
                return try await router.api(inner)
            },
            files: { req in
                guard let (router, inner) = member(req) else { return notFound }
                return try await router.files(inner)
            })
        let (api, files, p1, p2) = (l.api, l.files, l.port, l.filesPort)
        let host = advertisedHost ?? bindAddress
        var shops: [ShopifySimulator] = []
        for (name, core) in cores {
            let base = "http://\(host):\(p1)/shops/\(name)", filesBase = "http://\(host):\(p2)/shops/\(name)"
            core.state.locked {
                core.state.apiPort = p1
                core.state.filesPort = p2
                core.state.filesBaseURL = filesBase
            }
            core.addFaults(core.state.locked { core.state.config.faults })
            shops.append(
                ShopifySimulator(
                    core: core, api: api, files: files, tasks: [], port: p1, filesPort: p2, baseURL: base, filesBaseURL: filesBase,
                    ownsListeners: false))
        }
        return SimulatorFleet(shops: shops, port: p1, filesPort: p2, api: api, files: files, tasks: l.tasks)
    }

    /// Stops every member and then the shared listeners.
    public func stop() async {
        for shop in shops { await shop.stop() }
        await api.stop(timeout: 0.5)
        await files.stop(timeout: 0.5)
        for t in tasks { t.cancel() }
    }
}

public struct SimulatorFleetError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
