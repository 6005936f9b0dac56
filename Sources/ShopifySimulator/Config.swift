import Foundation

/// An app installed on the simulated shop: how it authenticates and what it may read.
public struct SimulatedApp: Sendable, Codable, Hashable {
    public var name: String
    /// A legacy custom-app Admin API access token (`shpat_…`), valid forever; nil for Dev Dashboard apps.
    public var accessToken: String?
    /// Dev Dashboard client credentials (client-credentials grant); nil for legacy apps.
    public var clientId: String?
    public var clientSecret: String?
    /// Granted access scopes, e.g. `["read_customers", "read_orders"]`.
    public var scopes: [String]
    /// The app belongs to another organisation: the client-credentials grant fails with `shop_not_permitted`.
    public var crossOrganization: Bool

    public init(
        name: String, accessToken: String? = nil, clientId: String? = nil, clientSecret: String? = nil,
        scopes: [String] = ["read_customers", "read_orders"], crossOrganization: Bool = false
    ) {
        self.name = name
        self.accessToken = accessToken
        self.clientId = clientId
        self.clientSecret = clientSecret
        self.scopes = scopes
        self.crossOrganization = crossOrganization
    }

    /// A legacy custom app with a fixed token.
    public static func legacy(
        _ name: String = "legacy-app", token: String = "shpat_sim_legacy_token_0000000000000000",
        scopes: [String] = ["read_customers", "read_orders"]
    ) -> SimulatedApp {
        SimulatedApp(name: name, accessToken: token, scopes: scopes)
    }

    /// A Dev Dashboard app using the client-credentials grant.
    public static func devDashboard(
        _ name: String = "dev-dashboard-app", clientId: String = "sim-client-id-0001",
        clientSecret: String = "shpss_sim_client_secret_000000000000",
        scopes: [String] = ["read_customers", "read_orders"]
    ) -> SimulatedApp {
        SimulatedApp(name: name, clientId: clientId, clientSecret: clientSecret, scopes: scopes)
    }
}

/// How fast bulk operations produce rows.
public enum OperationSpeed: Sendable, Hashable, Codable {
    /// As fast as the machine can write.
    case unlimited
    /// At most this many objects (lines) per second.
    case rowsPerSecond(Double)
    /// Spread each operation over about this many seconds.
    case duration(Double)
}

/// The GraphQL cost bucket of each app (leaky bucket).
public struct ThrottleConfig: Sendable, Hashable, Codable {
    public var maximumAvailable: Double
    public var restoreRate: Double
    public init(maximumAvailable: Double = 1000, restoreRate: Double = 50) {
        self.maximumAvailable = maximumAvailable
        self.restoreRate = restoreRate
    }
}

/// Everything that shapes a simulator run.
public struct SimulatorConfig: Sendable {
    public var seed: UInt64 = 1
    public var customers: Int = 100
    public var orders: Int = 250
    /// Years of history the base records spread over, ending 2026-06-01 (default: from 2022-01-01).
    public var historyYears: Double? = nil
    /// Where result files go; nil → a fresh temporary directory removed by `stop()`.
    public var dataDirectory: URL? = nil
    public var speed: OperationSpeed = .unlimited
    /// Time an operation stays `CREATED` before it starts `RUNNING`.
    public var startDelay: Double = 0.02
    /// Time between `CANCELING` and `CANCELED`.
    public var cancelDelay: Double = 0.1
    /// `expires_in` of tokens from the client-credentials grant.
    public var tokenLifetime: Double = 86399
    /// How long result URLs stay valid after an operation ends (then the operation is `EXPIRED`).
    public var resultURLLifetime: Double = 7 * 86400
    /// Versions older than this fall forward to it (nil: every known version is served as itself).
    public var oldestAccessibleVersion: String? = nil
    /// Bulk query operations an app may run at once from 2026-01 (before 2026-01 it is always one).
    public var concurrentOperationLimit: Int = 5
    public var apps: [SimulatedApp] = [.legacy(), .devDashboard()]
    public var throttle: ThrottleConfig = ThrottleConfig()
    public var faults: SimulatorFaults = SimulatorFaults()
    /// The shop's name: `<name>.myshopify.com`.
    public var shopName: String = "sim-shop"
    /// Print each request to stderr.
    public var logRequests: Bool = false
    /// The real Admin API schema (an SDL file): when set, every request is validated against it and
    /// answered with Shopify's error shapes, introspection is served from it, and fields the simulator
    /// does not model answer `null` (or a type-correct placeholder where the schema says non-null).
    public var schemaPath: String? = nil

    public init(seed: UInt64 = 1, customers: Int = 100, orders: Int = 250, apps: [SimulatedApp] = [.legacy(), .devDashboard()]) {
        self.seed = seed
        self.customers = customers
        self.orders = orders
        self.apps = apps
    }
}

/// Fault switches. Set them in the config, with `ShopifySimulator.setFaults(_:)` /
/// `addFaults(_:)`, or with `POST /_sim/faults` (this struct as JSON).
public struct SimulatorFaults: Sendable, Hashable, Codable {
    /// Faults that hit the Nth bulk query operation (counted from 1 over this simulator's life).
    public var operations: [OperationFault] = []
    /// Operations of the same app started by "another process"; they occupy slots for a while.
    public var foreignOperations: [ForeignOperation] = []
    /// HTTP errors on the GraphQL endpoint.
    public var http: [HTTPFault] = []
    /// Result downloads that drop the connection after some bytes.
    public var downloadDrops: [DownloadDrop] = []

    public init(
        operations: [OperationFault] = [], foreignOperations: [ForeignOperation] = [], http: [HTTPFault] = [],
        downloadDrops: [DownloadDrop] = []
    ) {
        self.operations = operations
        self.foreignOperations = foreignOperations
        self.http = http
        self.downloadDrops = downloadDrops
    }

    public var isEmpty: Bool { operations.isEmpty && foreignOperations.isEmpty && http.isEmpty && downloadDrops.isEmpty }
}

public struct OperationFault: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// `FAILED` with `INTERNAL_SERVER_ERROR` after `afterObjects` objects (partial data kept).
        case internalServerError = "INTERNAL_SERVER_ERROR"
        /// `FAILED` with `TIMEOUT` after `afterObjects` objects (partial data kept).
        case timeout = "TIMEOUT"
        /// `FAILED` with a null `errorCode` after `afterObjects` objects (seen in the wild; a rerun fixes it).
        case failedWithoutCode = "FAILED"
        /// Shopify cancels it: `CANCELED` after `afterObjects` objects.
        case canceled = "CANCELED"
        /// Runs at `rowsPerSecond`.
        case slow = "SLOW"
        /// The file's last line is cut off (no newline).
        case truncatedLastLine = "TRUNCATED"
        /// Line number `line` (1-based) is corrupt JSON.
        case corruptLine = "CORRUPT"
    }

    /// Which operation (1-based ordinal of bulk query operations this simulator accepted).
    public var operation: Int
    public var kind: Kind
    public var afterObjects: Int?
    public var rowsPerSecond: Double?
    public var line: Int?

    public init(operation: Int, kind: Kind, afterObjects: Int? = nil, rowsPerSecond: Double? = nil, line: Int? = nil) {
        self.operation = operation
        self.kind = kind
        self.afterObjects = afterObjects
        self.rowsPerSecond = rowsPerSecond
        self.line = line
    }
}

public struct ForeignOperation: Sendable, Hashable, Codable {
    /// The app whose slot it takes (nil: every app).
    public var app: String?
    /// How long it runs before completing.
    public var seconds: Double
    /// How many slots it takes (2026-01+: up to five run at once).
    public var slots: Int

    public init(app: String? = nil, seconds: Double, slots: Int = 1) {
        self.app = app
        self.seconds = seconds
        self.slots = slots
    }
}

public struct HTTPFault: Sendable, Hashable, Codable {
    /// 429, 500, 502, 503 …
    public var status: Int
    /// Fail the next `count` GraphQL requests …
    public var count: Int?
    /// … or this fraction of them (0…1).
    public var fraction: Double?
    /// `Retry-After` seconds (429/503).
    public var retryAfter: Int?
    /// The request is carried out first and only its answer is replaced by the error: a response lost
    /// on the way back (a proxy's 502 after the mutation ran), so that a client which retries repeats it.
    public var afterProcessing = false
    /// Only requests whose body contains this text (e.g. `bulkOperationRunQuery`) count and fail.
    public var matching: String?

    public init(
        status: Int, count: Int? = nil, fraction: Double? = nil, retryAfter: Int? = nil, afterProcessing: Bool = false,
        matching: String? = nil
    ) {
        self.status = status
        self.count = count
        self.fraction = fraction
        self.retryAfter = retryAfter
        self.afterProcessing = afterProcessing
        self.matching = matching
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        status = try c.decode(Int.self, forKey: .status)
        count = try c.decodeIfPresent(Int.self, forKey: .count)
        fraction = try c.decodeIfPresent(Double.self, forKey: .fraction)
        retryAfter = try c.decodeIfPresent(Int.self, forKey: .retryAfter)
        afterProcessing = try c.decodeIfPresent(Bool.self, forKey: .afterProcessing) ?? false
        matching = try c.decodeIfPresent(String.self, forKey: .matching)
    }
}

public struct DownloadDrop: Sendable, Hashable, Codable {
    /// Close the connection after sending this many body bytes …
    public var afterBytes: Int
    /// … for the next `count` downloads.
    public var count: Int

    public init(afterBytes: Int, count: Int = 1) {
        self.afterBytes = afterBytes
        self.count = count
    }
}
