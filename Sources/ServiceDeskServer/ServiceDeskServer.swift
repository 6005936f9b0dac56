import Foundation
import Hummingbird
import Importer
import Logging
import Migrations
import NIOCore
import Postgres
import ServiceDesk
import ServiceLifecycle

/// `shopbulk serve`: the read-only HTTP face of the mirror for service desks. Every route but
/// `/healthz` needs an API key (`Authorization: Bearer …`); the panel also takes a signed link.
/// Database work runs on a bounded pool of connections (`DatabasePool`) off the event loops.
public struct ServiceDeskServer: Sendable {
    public let configuration: ServerConfiguration
    let signer: PanelLinkSigner
    let pool: DatabasePool
    let keys: ExpiringCache<[UInt8], APIKeyRecord>
    let shops: ExpiringCache<String, Shop>
    let metrics: ServerMetrics
    let panel: PanelRenderer
    let logger: Logger
    /// The port actually bound (differs from the configured one for port 0).
    let boundPort: BoundPort

    public init(configuration: ServerConfiguration, signer: PanelLinkSigner, logger: Logger) throws {
        for origin in configuration.frameAncestors { try ServerConfiguration.validateOrigin(origin) }
        guard (1...64).contains(configuration.databaseConnections) else {
            throw ServerConfigurationError("--db-connections must be in 1...64")
        }
        self.configuration = configuration
        self.signer = signer
        self.pool = DatabasePool(
            url: configuration.databaseURL, size: configuration.databaseConnections, maximumWaiting: configuration.maximumWaiting)
        self.keys = ExpiringCache(ttl: configuration.cacheSeconds)
        self.shops = ExpiringCache(ttl: configuration.cacheSeconds)
        self.metrics = ServerMetrics()
        self.panel = try PanelRenderer(frameAncestors: configuration.frameAncestors)
        self.logger = logger
        self.boundPort = BoundPort(configuration.port)
    }

    /// Runs until SIGTERM or SIGINT, then stops accepting connections, lets the requests in flight
    /// finish, and returns. `onListening` gets the bound port (for `--listen …:0`).
    public func run(onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        // Check the database and the schema before listening: a read-only server never migrates.
        let migrator = try Migrator(directory: configuration.migrationsDirectory, logger: logger)
        try await pool.withConnection { try migrator.requireCurrent(on: $0) }
        let app = makeApplication(onListening: onListening)
        let group = ServiceGroup(
            configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        pool.close()
    }

    /// A path segment, percent-decoded (`%231001` is `#1001`).
    static func decoded(_ segment: String?) -> String { segment.map { $0.removingPercentEncoding ?? $0 } ?? "" }

    /// The Hummingbird application (routes, access log, metrics), for `run` and for tests.
    public func makeApplication(onListening: @escaping @Sendable (Int) -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router(context: BasicRequestContext.self)
        let handlers = Handlers(server: self)
        router.get("/healthz") { request, _ in await handlers.healthz() }
        router.get("/metrics") { request, _ in await handlers.metrics(request) }
        router.get("/v1/shops") { request, _ in await handlers.shops(request) }
        router.get("/v1/shops/{shop}/contacts") { request, context in
            await handlers.contacts(request, shop: Self.decoded(context.parameters.get("shop")))
        }
        router.get("/v1/shops/{shop}/orders/{order}") { request, context in
            await handlers.order(
                request, shop: Self.decoded(context.parameters.get("shop")), reference: Self.decoded(context.parameters.get("order")))
        }
        router.post("/v1/panel-links") { request, _ in await handlers.panelLink(request) }
        router.get("/panel") { request, _ in await handlers.panel(request) }
        let responder = AccessLogResponder(inner: router.buildResponder(), metrics: metrics, logger: logger, panel: panel)
        return Application(
            responder: responder,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { [boundPort] channel in
                let port = channel.localAddress?.port ?? 0
                boundPort.set(port)
                onListening(port)
            },
            logger: logger)
    }
}

/// The port the server listens on, once it does.
final class BoundPort: @unchecked Sendable {
    private let lock = NSLock()
    private var port: Int
    init(_ port: Int) { self.port = port }
    func set(_ value: Int) {
        lock.lock()
        port = value
        lock.unlock()
    }
    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return port
    }
}

/// Values read from the database and trusted for `ttl` seconds, so that a request costs no query
/// for what rarely changes: verified API keys (keyed by the key's SHA-256, never the key; a
/// revocation takes effect within `ttl`) and shops by name (a changed `customers_as` likewise).
/// Only found values are kept, and at most `capacity` of them (beyond it the cache starts over).
final class ExpiringCache<Key: Hashable & Sendable, Value: Sendable>: @unchecked Sendable {
    let ttl: Double
    let capacity: Int
    private let lock = NSLock()
    private var entries: [Key: (value: Value, at: Date)] = [:]

    init(ttl: Double, capacity: Int = 10_000) {
        self.ttl = ttl
        self.capacity = capacity
    }

    func get(_ key: Key) -> Value? {
        lock.lock()
        defer { lock.unlock() }
        guard let entry = entries[key], Date().timeIntervalSince(entry.at) < ttl else { return nil }
        return entry.value
    }

    func put(_ key: Key, _ value: Value) {
        lock.lock()
        defer { lock.unlock() }
        if entries.count >= capacity { entries.removeAll() }
        entries[key] = (value, Date())
    }
}

extension ExpiringCache where Key == String, Value == Shop {
    /// The shop named `name`, from the cache or read on `connection`; nil when there is none (or the
    /// name cannot exist).
    func find(_ name: String, _ connection: PostgresConnection) throws -> Shop? {
        guard Handlers.isShopName(name) else { return nil }
        if let shop = get(name) { return shop }
        guard let shop = try ShopStore(connection: connection).find(name) else { return nil }
        put(name, shop)
        return shop
    }
}

/// The outcome of checking a request's key.
enum Authorization {
    case allowed(APIKeyRecord)
    case refused(HTTPResponse.Status, code: String, message: String)
}

/// The JSON encoding of `shopbulk lookup --json` (snake_case keys, sorted, slashes kept).
enum JSONOutput {
    static func encode(_ value: some Encodable) throws -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        var data = try encoder.encode(value)
        data.append(UInt8(ascii: "\n"))
        return ByteBuffer(bytes: data)
    }

    static func response(_ status: HTTPResponse.Status, _ value: some Encodable) -> Response {
        do {
            return response(status, body: try encode(value))
        } catch {
            return Response(status: .internalServerError)
        }
    }

    /// A lookup or an order: written by `LookupJSON` (the same document, compact), not by `JSONEncoder`.
    static func response(_ lookup: ServiceDeskLookup) -> Response { response(.ok, body: LookupJSON.encode(lookup)) }
    static func response(_ order: LookupOrder) -> Response { response(.ok, body: LookupJSON.encode(order)) }

    static func response(_ status: HTTPResponse.Status, body: ByteBuffer) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }

    struct ErrorBody: Encodable {
        struct Detail: Encodable {
            var code: String
            var message: String
        }
        var error: Detail
    }

    static func error(_ status: HTTPResponse.Status, code: String, message: String) -> Response {
        var response = self.response(status, ErrorBody(error: .init(code: code, message: message)))
        if status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer realm=\"shopbulk\"" }
        return response
    }
}

/// The routes' work. Every handler returns a response (errors become JSON or, for the panel,
/// a friendly page); nothing it logs carries a key, a token or an e-mail address.
struct Handlers: Sendable {
    let server: ServiceDeskServer
    var pool: DatabasePool { server.pool }
    var shops: ExpiringCache<String, Shop> { server.shops }

    /// Checks `Authorization: Bearer KEY` (and, when `shop` is given, that the key may read it).
    func authorize(_ request: Request, shop: String?) async -> Authorization {
        let values = request.headers[values: .authorization]
        guard values.count == 1, let value = values.first else {
            return .refused(
                .unauthorized, code: "unauthorized",
                message: values.isEmpty ? "an API key is required (Authorization: Bearer KEY)" : "one Authorization header expected")
        }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            return .refused(.unauthorized, code: "unauthorized", message: "the Authorization header must be Bearer KEY")
        }
        let key = String(parts[1]).trimmingCharacters(in: .whitespaces)
        let hash = APIKeyStore.hash(key)
        var record = server.keys.get(hash)
        if record == nil {
            do {
                record = try await pool.withConnection { try APIKeyStore(connection: $0).find(key: key) }
            } catch {
                return .refused(.serviceUnavailable, code: "unavailable", message: "the database is not reachable")
            }
            if let record, !record.isRevoked { server.keys.put(hash, record) }
        }
        guard let record, !record.isRevoked else {
            return .refused(.unauthorized, code: "unauthorized", message: "the API key is not valid (unknown or revoked)")
        }
        if let shop, !record.allows(shop: shop) {
            return .refused(.forbidden, code: "forbidden", message: "this API key may not read shop \(shop)")
        }
        return .allowed(record)
    }

    func failure(_ error: any Error) -> Response {
        if let error = error as? DatabasePoolError, error == .busy {
            return JSONOutput.error(.serviceUnavailable, code: "busy", message: "the server is busy: try again")
        }
        var metadata: Logger.Metadata = ["error.type": "\(type(of: error))"]
        if let pg = error as? PostgresError {
            // The code and statement name only: the server's message may quote the request's values.
            metadata["error.code"] = "\(pg.code)"
            metadata["sqlstate"] = .string(pg.sqlState ?? "")
            metadata["statement"] = .string(pg.statement ?? "")
        }
        server.logger.error("request failed", metadata: metadata)
        return JSONOutput.error(.internalServerError, code: "internal", message: "the lookup failed; the server log has the details")
    }

    func healthz() async -> Response {
        struct Health: Encodable {
            var status: String
            var database: String
            var migrations: String
            var message: String?
        }
        let migrationsDirectory = server.configuration.migrationsDirectory
        do {
            let migrator = try Migrator(directory: migrationsDirectory)
            let current: String? = try await pool.withConnection { connection in
                _ = try connection.query("SELECT 1", name: "healthz")
                do {
                    try migrator.requireCurrent(on: connection)
                    return nil
                } catch let error as MigrationError { return error.message }
            }
            if let current {
                return JSONOutput.response(
                    .serviceUnavailable, Health(status: "unavailable", database: "ok", migrations: "pending", message: current))
            }
            return JSONOutput.response(.ok, Health(status: "ok", database: "ok", migrations: "current"))
        } catch {
            return JSONOutput.response(
                .serviceUnavailable,
                Health(status: "unavailable", database: "unreachable", migrations: "unknown", message: "the database is not reachable"))
        }
    }

    func metrics(_ request: Request) async -> Response {
        if case .refused(let status, let code, let message) = await authorize(request, shop: nil) {
            return JSONOutput.error(status, code: code, message: message)
        }
        do {
            let samples = try await pool.withConnection { try ServerQueries(connection: $0).metricSamples() }
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            let text = server.metrics.exposition(databaseSamples: samples, pool: pool.counts)
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
        } catch {
            return failure(error)
        }
    }

    func shops(_ request: Request) async -> Response {
        let record: APIKeyRecord
        switch await authorize(request, shop: nil) {
        case .refused(let status, let code, let message): return JSONOutput.error(status, code: code, message: message)
        case .allowed(let r): record = r
        }
        struct Shops: Encodable { var shops: [ShopSummary] }
        do {
            let stale = server.configuration.staleAfterSeconds
            let all = try await pool.withConnection { try ServerQueries(connection: $0).shops(staleAfter: stale) }
            return JSONOutput.response(.ok, Shops(shops: all.filter { record.allows(shop: $0.name) }))
        } catch {
            return failure(error)
        }
    }

    /// `?email=` (required) and `?orders=` (0...1000, default 10), or a 400 response.
    static func lookupParameters(_ request: Request) -> Result<(email: String, orders: Int), LookupParameterError> {
        let query = request.uri.queryParameters
        guard let raw = query["email"].map(String.init) else { return .failure(.init(message: "the email parameter is required")) }
        let email = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard Self.isEmail(email) else { return .failure(.init(message: "email must be an e-mail address")) }
        var orders = 10
        if let text = query["orders"] {
            guard let n = Int(text), (0...1000).contains(n) else { return .failure(.init(message: "orders must be a number in 0...1000")) }
            orders = n
        }
        return .success((email, orders))
    }

    struct LookupParameterError: Error { var message: String }

    /// An address to look up: an `@`, at most 320 characters, no control characters (PostgreSQL
    /// text cannot hold NUL).
    static func isEmail(_ email: String) -> Bool {
        !email.isEmpty && email.contains("@") && email.unicodeScalars.count <= 320
            && !email.unicodeScalars.contains { $0.value < 0x20 || (0x7f...0x9f).contains($0.value) }
    }

    /// A shop name that can exist (no NUL, which PostgreSQL text cannot hold); others are unknown.
    static func isShopName(_ shop: String) -> Bool { !shop.isEmpty && !shop.unicodeScalars.contains { $0.value == 0 } }

    func contacts(_ request: Request, shop: String) async -> Response {
        if case .refused(let status, let code, let message) = await authorize(request, shop: shop) {
            return JSONOutput.error(status, code: code, message: message)
        }
        let parameters: (email: String, orders: Int)
        switch Self.lookupParameters(request) {
        case .failure(let e): return JSONOutput.error(.badRequest, code: "bad_request", message: e.message)
        case .success(let p): parameters = p
        }
        do {
            let result = try await lookup(shop: shop, email: parameters.email, orders: parameters.orders)
            guard let result else { return JSONOutput.error(.notFound, code: "shop_not_found", message: "no shop named \(shop)") }
            if result.isEmpty {
                return JSONOutput.error(.notFound, code: "not_found", message: "no customer or order with this e-mail in shop \(shop)")
            }
            return JSONOutput.response(result)
        } catch {
            return failure(error)
        }
    }

    /// The lookup in one trip to the pool; nil when the shop does not exist.
    func lookup(shop: String, email: String, orders: Int) async throws -> ServiceDeskLookup? {
        try await pool.withConnection { connection -> ServiceDeskLookup? in
            guard let found = try shops.find(shop, connection) else { return nil }
            return try ServiceDeskQueries(connection: connection).lookup(shop: found, email: email, orderLimit: orders)
        }
    }

    func order(_ request: Request, shop: String, reference: String) async -> Response {
        if case .refused(let status, let code, let message) = await authorize(request, shop: shop) {
            return JSONOutput.error(status, code: code, message: message)
        }
        guard let parsed = OrderReference(reference) else {
            return JSONOutput.error(
                .badRequest, code: "bad_request", message: "the order must be its name (#1001 or 1001), its numeric id, or its GID")
        }
        do {
            enum Found: Sendable {
                case noShop, noOrder, order(LookupOrder)
            }
            let found = try await pool.withConnection { connection -> Found in
                guard let s = try shops.find(shop, connection) else { return .noShop }
                return try ServiceDeskQueries(connection: connection).order(shop: s, reference: parsed).map { .order($0) } ?? .noOrder
            }
            switch found {
            case .noShop: return JSONOutput.error(.notFound, code: "shop_not_found", message: "no shop named \(shop)")
            case .noOrder: return JSONOutput.error(.notFound, code: "not_found", message: "no order \(reference) in shop \(shop)")
            case .order(let o): return JSONOutput.response(o)
            }
        } catch {
            return failure(error)
        }
    }

    func panelLink(_ request: Request) async -> Response {
        struct LinkRequest: Decodable {
            var shop: String
            var email: String
            var ttlSeconds: Int?
        }
        struct Link: Encodable {
            var url: String
            var path: String
            var expiresAt: String
        }
        let record: APIKeyRecord
        switch await authorize(request, shop: nil) {
        case .refused(let status, let code, let message): return JSONOutput.error(status, code: code, message: message)
        case .allowed(let r): record = r
        }
        var request = request
        let body: LinkRequest
        do {
            let buffer = try await request.collectBody(upTo: 16 * 1024)
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            body = try decoder.decode(LinkRequest.self, from: Data(buffer.readableBytesView))
        } catch {
            return JSONOutput.error(
                .badRequest, code: "bad_request",
                message: "the body must be JSON: {\"shop\": \"...\", \"email\": \"...\", \"ttl_seconds\": 300}")
        }
        let email = body.email.trimmingCharacters(in: .whitespacesAndNewlines)
        guard Self.isEmail(email) else {
            return JSONOutput.error(.badRequest, code: "bad_request", message: "email must be an e-mail address")
        }
        let ttl = body.ttlSeconds ?? 300
        guard (1...server.configuration.maximumLinkSeconds).contains(ttl) else {
            return JSONOutput.error(
                .badRequest, code: "bad_request", message: "ttl_seconds must be in 1...\(server.configuration.maximumLinkSeconds)")
        }
        guard record.allows(shop: body.shop) else {
            return JSONOutput.error(.forbidden, code: "forbidden", message: "this API key may not read shop \(body.shop)")
        }
        do {
            let shopName = body.shop
            let exists = try await pool.withConnection { c in
                try shops.find(shopName, c) != nil
            }
            guard exists else { return JSONOutput.error(.notFound, code: "shop_not_found", message: "no shop named \(body.shop)") }
        } catch {
            return failure(error)
        }
        let expires = Int64(Date().timeIntervalSince1970) + Int64(ttl)
        let path = server.signer.path(shop: body.shop, email: email, expires: expires)
        let host = server.configuration.host
        let base = server.configuration.publicURL ?? "http://\(host.contains(":") ? "[\(host)]" : host):\(server.boundPort.value)"
        let formatter = ISO8601DateFormatter()
        return JSONOutput.response(
            .created,
            Link(
                url: base.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path, path: path,
                expiresAt: formatter.string(from: Date(timeIntervalSince1970: TimeInterval(expires)))))
    }

    func panel(_ request: Request) async -> Response {
        let query = request.uri.queryParameters
        let renderer = server.panel
        guard let shop = query["shop"].map(String.init), !shop.isEmpty, let rawEmail = query["email"].map(String.init) else {
            return renderer.message(.badRequest, title: "Incomplete link", text: "This panel needs a shop and an e-mail address.")
        }
        let email = rawEmail.trimmingCharacters(in: .whitespacesAndNewlines)
        guard Self.isEmail(email) else {
            return renderer.message(.badRequest, title: "Incomplete link", text: "This panel needs a valid e-mail address.")
        }
        if let token = query["token"].map(String.init) {
            guard let expires = query["expires"].flatMap({ Int64($0) }) else {
                return renderer.message(
                    .forbidden, title: "Link not valid", text: "This panel link is incomplete. Open the ticket again to get a new one.")
            }
            switch server.signer.verify(shop: shop, email: email, expires: expires, token: token) {
            case nil: break
            case .expired:
                return renderer.message(
                    .forbidden, title: "Link expired", text: "This panel link has expired. Reload the ticket to get a new one.")
            case .malformed, .badSignature:
                return renderer.message(
                    .forbidden, title: "Link not valid", text: "This panel link is not valid. Reload the ticket to get a new one.")
            }
        } else {
            switch await authorize(request, shop: shop) {
            case .allowed: break
            case .refused(let status, _, _):
                let text =
                    status == .forbidden
                    ? "This key may not read this shop." : "This panel needs a signed link (POST /v1/panel-links) or an API key."
                return renderer.message(status, title: status == .forbidden ? "Not allowed" : "Sign-in needed", text: text)
            }
        }
        let orders = query["orders"].flatMap { Int($0) }.map { min(max($0, 0), 50) } ?? 5
        do {
            guard let result = try await lookup(shop: shop, email: email, orders: orders) else {
                return renderer.message(.notFound, title: "Unknown shop", text: "There is no shop named \(shop).")
            }
            if result.isEmpty {
                return renderer.message(
                    .notFound, title: "No customer found",
                    text: "Nobody with the e-mail address \(email) has an account or an order in \(shop).")
            }
            return renderer.page(result)
        } catch {
            _ = failure(error)
            return renderer.message(
                .serviceUnavailable, title: "Not available", text: "The customer data cannot be read right now. Try again shortly.")
        }
    }
}

/// Wraps the router: times and counts every request by route, writes one structured access-log line
/// (method, route, path without its query, status, duration, bytes; never headers or the query,
/// which may hold a panel token or an e-mail address), and turns thrown errors into responses.
struct AccessLogResponder<Inner: HTTPResponder>: HTTPResponder where Inner.Context == BasicRequestContext {
    typealias Context = BasicRequestContext
    let inner: Inner
    let metrics: ServerMetrics
    let logger: Logger
    let panel: PanelRenderer

    /// The methods each route answers; others get 405.
    static var methods: [String: HTTPRequest.Method] {
        [
            "/healthz": .get, "/metrics": .get, "/panel": .get, "/v1/shops": .get, "/v1/panel-links": .post,
            "/v1/shops/{shop}/contacts": .get, "/v1/shops/{shop}/orders/{order}": .get,
        ]
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        let start = ContinuousClock.now
        let route = Self.route(of: request.uri.path)
        var response: Response
        do {
            if let allowed = Self.methods[route], allowed != request.method {
                response = JSONOutput.error(
                    .methodNotAllowed, code: "method_not_allowed", message: "\(route) answers \(allowed.rawValue) only")
                response.headers[.allow] = allowed.rawValue
            } else {
                response = try await inner.respond(to: request, context: context)
            }
        } catch let error as any HTTPResponseError {
            let status = error.status
            if request.uri.path == "/panel" {
                response = panel.message(status, title: "Not available", text: "This request cannot be answered.")
            } else {
                response = JSONOutput.error(
                    status, code: status == .notFound ? "no_route" : (status == .methodNotAllowed ? "method_not_allowed" : "bad_request"),
                    message: status == .notFound ? "no such route" : status.reasonPhrase)
            }
        } catch {
            response = JSONOutput.error(.internalServerError, code: "internal", message: "the request failed")
        }
        if route == "other" && response.status == .notFound {
            response = JSONOutput.error(.notFound, code: "no_route", message: "no such route")
        }
        let elapsed = ContinuousClock.now - start
        metrics.record(route: route, method: request.method.rawValue, status: Int(response.status.code), duration: elapsed)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        logger.info(
            "request",
            metadata: [
                "http.method": .string(request.method.rawValue), "http.route": .string(route),
                "http.path": .string(String(request.uri.path.prefix(200))), "http.status": .stringConvertible(Int(response.status.code)),
                "duration_ms": .string(String(format: "%.2f", seconds * 1000)),
            ])
        return response
    }

    /// The route template of a path (bounded label values for metrics).
    static func route(of path: String) -> String {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        switch parts.count {
        case 1 where ["healthz", "metrics", "panel"].contains(parts[0]): return "/" + parts[0]
        case 2 where parts[0] == "v1" && parts[1] == "shops": return "/v1/shops"
        case 2 where parts[0] == "v1" && parts[1] == "panel-links": return "/v1/panel-links"
        case 4 where parts[0] == "v1" && parts[1] == "shops" && parts[3] == "contacts": return "/v1/shops/{shop}/contacts"
        case 5 where parts[0] == "v1" && parts[1] == "shops" && parts[3] == "orders": return "/v1/shops/{shop}/orders/{order}"
        default: return "other"
        }
    }
}
