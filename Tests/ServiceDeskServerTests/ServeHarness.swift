import Dispatch
import Foundation
import HTTP
import Logging
import Migrations
import Postgres
import ServiceDeskServer
import TestSupport
import Testing

/// A migrated test database with shops and API keys, and `shopbulk serve` running on it as a
/// child process on a free loopback port.
final class ServeHarness: @unchecked Sendable {
    let db: TestDatabase
    let dir: String
    let keyFile: String
    var server: ServeProcess?

    init(function: String = #function) throws {
        db = try TestDatabase(function: function)
        dir = NSTemporaryDirectory() + "sb-serve-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        keyFile = dir + "/panel-link.key"
        var quiet = Logger(label: "test.migrations")
        quiet.logLevel = .warning
        try Migrator(directory: TestEnvironment.packageRoot + "/migrations", logger: quiet).apply(on: db.connect())
    }

    deinit {
        server?.kill()
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// `shopbulk ARGS` on the test database.
    func cli(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, stdout: String, stderr: String) {
        var env = ProcessInfo.processInfo.environment
        env["SHOPBULK_LOG_LEVEL"] = "warning"
        env.removeValue(forKey: "DATABASE_URL")
        for (k, v) in environment { env[k] = v }
        let args = arguments + ["--database-url", db.url, "--migrations-dir", TestEnvironment.packageRoot + "/migrations"]
        let finalEnv = env
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                do { continuation.resume(returning: try runProcess(TestEnvironment.shopbulkBinary, args, environment: finalEnv)) } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    func addShop(_ name: String) async throws {
        let r = try await cli(["shop", "add", name, "--store", name, "--token-env", "UNUSED_TOKEN", "--no-verify"])
        try #require(r.status == 0, "\(r.stderr)")
    }

    /// Loads JSONL lines into a shop (`shopbulk load`).
    func load(_ shop: String, query: String, lines: [String]) async throws {
        let file = dir + "/\(query)-\(UInt32.random(in: 0...UInt32.max)).jsonl"
        try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let r = try await cli(["load", file, "--shop", shop, "--query", query, "--queries-dir", TestEnvironment.packageRoot + "/queries"])
        try #require(r.status == 0, "\(r.stderr)")
    }

    /// `shopbulk apikey create NAME [--shop S]...`: the key printed.
    func createKey(_ name: String, shops: [String] = []) async throws -> String {
        let r = try await cli(["apikey", "create", name] + shops.flatMap { ["--shop", $0] })
        try #require(r.status == 0, "\(r.stderr)")
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @discardableResult
    func start(_ extra: [String] = []) throws -> ServeProcess {
        let s = try ServeProcess(
            [
                "serve", "--listen", "127.0.0.1:0", "--database-url", db.url, "--migrations-dir",
                TestEnvironment.packageRoot + "/migrations",
                "--panel-key-file", keyFile, "--log-level", "info",
            ] + extra, logFile: dir + "/serve-\(UInt32.random(in: 0...UInt32.max)).log")
        server = s
        return s
    }

    /// The signer the server uses (its key file), for links the test makes itself.
    func signer() throws -> PanelLinkSigner { try PanelLinkSigner.loadOrCreate(path: keyFile) }
}

/// `shopbulk serve` as a child process; its stdout's first line names the port.
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    let port: Int
    let logFile: String

    init(_ arguments: [String], logFile: String) throws {
        self.logFile = logFile
        process.executableURL = URL(fileURLWithPath: TestEnvironment.shopbulkBinary)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "DATABASE_URL")
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        FileManager.default.createFile(atPath: logFile, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Blocks this thread until the server prints its address (or exits).
        var line = Data()
        while true {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
            if line.contains(UInt8(ascii: "\n")) { break }
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let range = text.range(of: "listening on http://127.0.0.1:"),
            let port = Int(text[range.upperBound...].prefix(while: { $0.isNumber }))
        else {
            process.waitUntilExit()
            throw TestEnvironmentError(
                message: "shopbulk serve did not start: \(text) \((try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "")")
        }
        self.port = port
    }

    var base: String { "http://127.0.0.1:\(port)" }
    var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

    func terminate() { if process.isRunning { process.terminate() } }
    func kill() { if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) } }

    /// Waits (off the cooperative pool) for the process to exit; its status.
    func waitForExit() async -> Int32 {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                self.process.waitUntilExit()
                continuation.resume(returning: self.process.terminationStatus)
            }
        }
    }
}

/// A response as the tests read it.
struct Reply {
    var status: Int
    var headers: HTTPResponseHead
    var body: String
    var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] }
    var errorCode: String? { (json?["error"] as? [String: Any])?["code"] as? String }
}

enum Web {
    static let client = HTTPClient()

    static func get(_ url: String, key: String? = nil, headers: [(name: String, value: String)] = []) async throws -> Reply {
        try await send(HTTPRequest(method: .get, url: url, headers: (key.map { [("Authorization", "Bearer \($0)")] } ?? []) + headers))
    }

    static func post(_ url: String, key: String?, json: [String: Any]) async throws -> Reply {
        let body = try JSONSerialization.data(withJSONObject: json)
        return try await send(
            HTTPRequest(
                method: .post, url: url,
                headers: (key.map { [("Authorization", "Bearer \($0)")] } ?? []) + [("Content-Type", "application/json")],
                body: Array(body)))
    }

    static func send(_ request: HTTPRequest) async throws -> Reply {
        var request = request
        request.timeouts = HTTPTimeouts(connect: .seconds(5), lowSpeedBytesPerSecond: 1, lowSpeedTime: .seconds(60), total: .seconds(120))
        let r = try await client.execute(request)
        return Reply(status: r.status, headers: r.head, body: String(decoding: r.body, as: UTF8.self))
    }
}

/// Waits for `condition` (polled every 20 ms) until `seconds` pass.
func waitUntil(_ seconds: Double, _ what: String, _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("timed out waiting for \(what)")
    throw TestEnvironmentError(message: "timed out waiting for \(what)")
}

/// Shopify bulk lines for the loader (the shapes `queries/customers.graphql` and `orders.graphql` select).
enum Fixture {
    static func json(_ object: [String: Any?]) -> String {
        let cleaned = object.mapValues { $0 ?? NSNull() }
        let data = try! JSONSerialization.data(withJSONObject: cleaned, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    static func money(_ amount: String?, _ currency: String = "EUR") -> Any? {
        amount.map { ["shopMoney": ["amount": $0, "currencyCode": currency]] }
    }

    static func customer(_ id: Int, email: String, first: String, last: String, note: String? = nil) -> String {
        json([
            "__typename": "Customer", "id": "gid://shopify/Customer/\(id)", "firstName": first, "lastName": last,
            "displayName": "\(first) \(last)", "defaultEmailAddress": ["emailAddress": email],
            "defaultPhoneNumber": ["phoneNumber": "+41 79 000 00 \(id % 100)"], "state": "ENABLED", "verifiedEmail": true,
            "taxExempt": false, "locale": "en", "note": note, "tags": ["vip", "<b>bold</b>"],
            "amountSpent": ["amount": "219.40", "currencyCode": "EUR"], "numberOfOrders": "3", "lastOrder": nil,
            "defaultAddress": [
                "company": "Example AG", "address1": "Bahnhofstrasse 1", "zip": "8001", "city": "Zürich", "country": "Switzerland",
            ],
            "createdAt": "2024-01-02T03:04:05Z", "updatedAt": "2025-05-01T00:00:00Z",
        ])
    }

    static func order(
        _ id: Int, name: String, customer: Int?, email: String, createdAt: String, total: String, financial: String = "PAID",
        fulfillment: String = "FULFILLED", extra: [String: Any] = [:]
    ) -> String {
        var object: [String: Any?] = [
            "__typename": "Order", "id": "gid://shopify/Order/\(id)", "name": name, "email": email, "phone": nil,
            "customer": customer.map { ["id": "gid://shopify/Customer/\($0)"] }, "createdAt": createdAt,
            "updatedAt": createdAt, "processedAt": createdAt, "cancelledAt": nil, "cancelReason": nil, "closedAt": nil,
            "displayFinancialStatus": financial, "displayFulfillmentStatus": fulfillment, "currencyCode": "EUR", "tags": [],
            "test": false, "note": nil, "totalPriceSet": money(total), "subtotalPriceSet": money(total), "totalTaxSet": money("0.00"),
            "totalDiscountsSet": money("0.00"), "totalShippingPriceSet": money("0.00"), "totalRefundedSet": money("0.00"),
            "currentTotalPriceSet": money(total), "billingAddress": nil, "shippingAddress": nil,
        ]
        for (k, v) in extra { object[k] = v }
        return json(object)
    }

    static func lineItem(_ id: Int, order: Int, title: String, sku: String, price: String, quantity: Int) -> String {
        json([
            "__typename": "LineItem", "id": "gid://shopify/LineItem/\(id)", "title": title, "name": title, "variantTitle": nil,
            "sku": sku, "vendor": "ACME", "quantity": quantity, "currentQuantity": quantity, "unfulfilledQuantity": 0,
            "variant": nil, "product": nil, "originalUnitPriceSet": money(price), "discountedUnitPriceSet": money(price),
            "originalTotalSet": money(price), "discountedTotalSet": money(price), "totalDiscountSet": money("0.00"), "taxable": true,
            "requiresShipping": true, "isGiftCard": false, "customAttributes": [], "__parentId": "gid://shopify/Order/\(order)",
        ])
    }

    static func fulfillment(
        _ id: Int, display: String, created: String, inTransit: String?, delivered: String?, estimated: String?, company: String,
        number: String, url: String?
    ) -> [String: Any] {
        [
            "id": "gid://shopify/Fulfillment/\(id)", "status": "SUCCESS", "displayStatus": display, "createdAt": created,
            "inTransitAt": inTransit.map { $0 as Any } ?? NSNull(), "deliveredAt": delivered.map { $0 as Any } ?? NSNull(),
            "estimatedDeliveryAt": estimated.map { $0 as Any } ?? NSNull(),
            "trackingInfo": [["company": company, "number": number, "url": url.map { $0 as Any } ?? NSNull()] as [String: Any]],
        ]
    }

    static func refund(_ id: Int, at: String, note: String?, amount: String) -> [String: Any] {
        [
            "id": "gid://shopify/Refund/\(id)", "createdAt": at, "note": note.map { $0 as Any } ?? NSNull(),
            "totalRefundedSet": ["shopMoney": ["amount": amount, "currencyCode": "EUR"]],
        ]
    }

    static let hostileFirst = "<script>alert(1)</script>"
    static let hostileLast = "\"><img src=x onerror=alert(2)>"
    static let hostileCarrier = "Evil\"><script>alert(4)</script>"

    /// Shop `desk`: a customer with hostile names (ann@example.com) and three orders; shop `other`:
    /// bob@example.com with one order.
    static func load(into h: ServeHarness) async throws {
        try await h.addShop("desk")
        try await h.addShop("other")
        try await h.load(
            "desk", query: "customers",
            lines: [
                customer(
                    7001, email: "ann@example.com", first: hostileFirst, last: hostileLast, note: "Calls <i>after</i> 5 pm & asks for 'Jo'")
            ])
        try await h.load(
            "desk", query: "orders",
            lines: [
                order(
                    5001, name: "#1001", customer: 7001, email: "ann@example.com", createdAt: "2025-03-01T09:00:00Z", total: "89.90",
                    extra: [
                        "fulfillments": [
                            fulfillment(
                                301, display: "DELIVERED", created: "2025-03-01T15:00:00Z", inTransit: "2025-03-02T08:00:00Z",
                                delivered: "2025-03-04T11:20:00Z", estimated: "2025-03-04T00:00:00Z", company: "UPS",
                                number: "1Z999AA10123456784",
                                url: "https://www.ups.com/track?tracknum=1Z999AA10123456784")
                        ], "refunds": [],
                    ]),
                lineItem(9011, order: 5001, title: "Rain jacket \(hostileLast)", sku: "JKT-1", price: "89.90", quantity: 1),
                order(
                    5002, name: "#1002", customer: 7001, email: "ann@example.com", createdAt: "2025-05-10T09:00:00Z", total: "59.50",
                    extra: [
                        "fulfillments": [
                            fulfillment(
                                302, display: "IN_TRANSIT", created: "2025-05-10T16:00:00Z", inTransit: "2025-05-11T07:45:00Z",
                                delivered: nil,
                                estimated: "2025-05-14T00:00:00Z", company: "DHL Express", number: "JD014600006281230704",
                                url: "https://www.dhl.com/en/express/tracking.html?AWB=JD014600006281230704")
                        ], "refunds": [],
                    ]),
                lineItem(9021, order: 5002, title: "Trail shoes", sku: "SHO-2", price: "59.50", quantity: 1),
                order(
                    5003, name: "#1003", customer: 7001, email: "ann@example.com", createdAt: "2025-06-02T09:00:00Z", total: "70.00",
                    financial: "PARTIALLY_REFUNDED",
                    extra: [
                        "fulfillments": [
                            fulfillment(
                                303, display: "DELIVERED", created: "2025-06-02T14:00:00Z", inTransit: "2025-06-03T06:00:00Z",
                                delivered: "2025-06-05T10:05:00Z", estimated: nil, company: hostileCarrier, number: "EV<b>1</b>",
                                url: "javascript:alert(3)")
                        ],
                        "refunds": [refund(401, at: "2025-06-08T09:30:00Z", note: "2 pairs arrived torn <u>twice</u>", amount: "14.00")],
                        "totalRefundedSet": money("14.00"),
                    ]),
                lineItem(9031, order: 5003, title: "Wool socks", sku: "SOC-3", price: "7.00", quantity: 10),
            ])
        try await h.addShop("empty")
        try await h.load("other", query: "customers", lines: [customer(8001, email: "bob@example.com", first: "Bob", last: "Other")])
        try await h.load(
            "other", query: "orders",
            lines: [order(6001, name: "#1001", customer: 8001, email: "bob@example.com", createdAt: "2025-04-01T09:00:00Z", total: "10.00")]
        )
    }
}
