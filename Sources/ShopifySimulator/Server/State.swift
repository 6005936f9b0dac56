import Foundation

/// A request the simulator received, with secrets redacted.
public struct RecordedRequest: Sendable, Codable, Hashable {
    /// Seconds since 1970 (simulator clock).
    public var time: Double
    public var method: String
    public var path: String
    /// Raw query string (no leading `?`), empty if none.
    public var query: String
    /// `api` (GraphQL and OAuth) or `files` (result downloads).
    public var listener: String
    /// The port the request arrived on (each listener has its own).
    public var port: Int
    /// The `Host` header as sent.
    public var host: String?
    /// Header name/value pairs; `X-Shopify-Access-Token`, `Authorization` and `Cookie` values are `[REDACTED]`.
    public var headers: [[String]]
    /// The body, with `client_secret` values redacted; nil when empty.
    public var body: String?
    public var status: Int

    /// The first value of a header (case-insensitive name).
    public func header(_ name: String) -> String? {
        headers.first { $0.first?.lowercased() == name.lowercased() }.flatMap { $0.count > 1 ? $0[1] : nil }
    }
}

/// A bulk operation as tests see it.
public struct SimBulkOperation: Sendable, Hashable {
    public var number: Int
    public var gid: String { "gid://shopify/BulkOperation/\(number)" }
    public var app: String
    public var status: String
    public var errorCode: String?
    public var objectCount: Int
    public var rootObjectCount: Int
    public var fileSize: Int
    public var url: String?
    public var partialDataUrl: String?
    public var query: String
    public var groupObjects: Bool
    /// Started by the "foreign operation" fault rather than by a request.
    public var foreign: Bool
    /// The result file on disk, if any.
    public var resultFile: URL?
}

/// One bulk operation's mutable record (guarded by `SimulatorState.lock`).
final class BulkOperationRecord: @unchecked Sendable {
    let number: Int
    let app: String
    let query: String
    let createdAt: Double
    let groupObjects: Bool
    let foreign: Bool
    let ordinal: Int
    var status = "CREATED"
    var errorCode: String?
    var completedAt: Double?
    var endedAt: Double?
    var objectCount = 0
    var rootObjectCount = 0
    var fileSize = 0
    var file: URL?
    /// `url` (true) or `partialDataUrl` (false) when ended with data.
    var resultIsComplete = false
    var cancelRequested = false

    init(number: Int, app: String, query: String, createdAt: Double, groupObjects: Bool, foreign: Bool, ordinal: Int) {
        self.number = number
        self.app = app
        self.query = query
        self.createdAt = createdAt
        self.groupObjects = groupObjects
        self.foreign = foreign
        self.ordinal = ordinal
    }

    var isActive: Bool { status == "CREATED" || status == "RUNNING" || status == "CANCELING" }
    var gid: String { "gid://shopify/BulkOperation/\(number)" }
}

/// A read-only copy of an operation for responses.
struct BulkOpView: Sendable {
    var number: Int
    var status: String
    var errorCode: String?
    var createdAt: Double
    var completedAt: Double?
    var objectCount: Int
    var rootObjectCount: Int
    var fileSize: Int?
    var url: String?
    var partialDataUrl: String?
    var query: String
    var gid: String { "gid://shopify/BulkOperation/\(number)" }
}

struct IssuedToken { var app: String; var expiresAt: Double? }

struct Bucket { var available: Double; var updated: Double }

/// All mutable simulator state behind one lock. Handlers and bulk workers take the lock briefly.
final class SimulatorState: @unchecked Sendable {
    let lock = NSLock()
    let clock = SimClock()
    var config: SimulatorConfig
    var shop: ShopSnapshot
    var apps: [String: SimulatedApp] = [:]
    var tokens: [String: IssuedToken] = [:]
    var buckets: [String: Bucket] = [:]
    var operations: [BulkOperationRecord] = []
    var nextOperationNumber = 4_410_001
    var queryOrdinal = 0
    var faults: SimulatorFaults
    var httpFaultRNG: UInt64
    var requests: [RecordedRequest] = []
    var changeSalt: UInt64 = 1
    let dataDirectory: URL
    let ownsDataDirectory: Bool
    var filesBaseURL = ""
    var apiPort = 0
    var filesPort = 0
    let signingKey: UInt64
    /// The real schema of `--schema`, if given.
    let sdl: SDLSchema?

    init(config: SimulatorConfig) throws {
        self.config = config
        self.sdl = try config.schemaPath.map { try SDLSchema.load(path: $0) }
        self.shop = ShopSnapshot(
            seed: config.seed, customers: max(config.customers, 0), orders: max(config.orders, 0), historyYears: config.historyYears)
        self.faults = SimulatorFaults()
        self.httpFaultRNG = config.seed ^ 0xFA17
        if let dir = config.dataDirectory {
            dataDirectory = dir
            ownsDataDirectory = false
        } else {
            dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("shopify-sim-\(UUID().uuidString)")
            ownsDataDirectory = true
        }
        try FileManager.default.createDirectory(at: dataDirectory.appendingPathComponent("bulk"), withIntermediateDirectories: true)
        var g = SystemRandomNumberGenerator()
        signingKey = g.next()
        for app in config.apps { apps[app.name] = app }
        for app in config.apps {
            if let t = app.accessToken { tokens[t] = IssuedToken(app: app.name, expiresAt: nil) }
        }
    }

    @inline(__always)
    func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    // MARK: operations

    func view(_ op: BulkOperationRecord, now: Double) -> BulkOpView {
        expireIfNeeded(op, now: now)
        var url: String?, partial: String?
        if let ended = op.endedAt, op.file != nil, op.objectCount > 0 {
            let expires = Int(ended + config.resultURLLifetime)
            let u = signedURL(number: op.number, partial: !op.resultIsComplete, expires: expires)
            if op.resultIsComplete { url = u } else { partial = u }
        }
        return BulkOpView(
            number: op.number, status: op.status, errorCode: op.errorCode, createdAt: op.createdAt, completedAt: op.completedAt,
            objectCount: op.objectCount, rootObjectCount: op.rootObjectCount,
            fileSize: op.status == "CREATED" ? nil : op.fileSize, url: url, partialDataUrl: partial, query: op.query)
    }

    func expireIfNeeded(_ op: BulkOperationRecord, now: Double) {
        if let ended = op.endedAt, op.status != "EXPIRED", op.file != nil, op.objectCount > 0,
            now > ended + config.resultURLLifetime
        {
            op.status = "EXPIRED"
        }
    }

    func publicView(_ op: BulkOperationRecord, now: Double) -> SimBulkOperation {
        let v = view(op, now: now)
        return SimBulkOperation(
            number: op.number, app: op.app, status: v.status, errorCode: v.errorCode, objectCount: v.objectCount,
            rootObjectCount: v.rootObjectCount, fileSize: op.fileSize, url: v.url, partialDataUrl: v.partialDataUrl,
            query: op.query, groupObjects: op.groupObjects, foreign: op.foreign, resultFile: op.file)
    }

    func operation(number: Int) -> BulkOperationRecord? { operations.first { $0.number == number } }

    func signedURL(number: Int, partial: Bool, expires: Int) -> String {
        let path = "/bulk/\(number)\(partial ? "-partial" : "").jsonl"
        return "\(filesBaseURL)\(path)?expires=\(expires)&signature=\(signature(path: path, expires: expires))"
    }

    func signature(path: String, expires: Int) -> String {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ signingKey
        for b in "\(path)|\(expires)".utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return String(Mix.splitmix(h), radix: 16)
    }

    // MARK: throttling

    /// Takes `cost` from the app's bucket, or returns nil if it does not fit (throttled).
    func spend(app: String, cost: Double, now: Double) -> (available: Double, ok: Bool) {
        let max = config.throttle.maximumAvailable, rate = config.throttle.restoreRate
        var b = buckets[app] ?? Bucket(available: max, updated: now)
        b.available = min(max, b.available + (now - b.updated) * rate)
        b.updated = now
        let ok = b.available >= cost
        if ok { b.available -= cost }
        buckets[app] = b
        return (b.available, ok)
    }

    // MARK: faults

    /// The fault that hits a GraphQL request with this body, if any (counted down or drawn).
    func nextHTTPFault(body: Data) -> HTTPFault? {
        for i in faults.http.indices {
            if let text = faults.http[i].matching, body.range(of: Data(text.utf8)) == nil { continue }
            if let c = faults.http[i].count {
                if c > 0 { faults.http[i].count = c - 1; return faults.http[i] }
            } else if let p = faults.http[i].fraction {
                httpFaultRNG = Mix.splitmix(httpFaultRNG)
                if Double(httpFaultRNG >> 11) / Double(1 << 53) < p { return faults.http[i] }
            }
        }
        faults.http.removeAll { $0.count == 0 }
        return nil
    }

    func nextDownloadDrop() -> Int? {
        guard let i = faults.downloadDrops.firstIndex(where: { $0.count > 0 }) else { return nil }
        faults.downloadDrops[i].count -= 1
        let bytes = faults.downloadDrops[i].afterBytes
        faults.downloadDrops.removeAll { $0.count <= 0 }
        return bytes
    }

    func operationFaults(ordinal: Int) -> [OperationFault] { faults.operations.filter { $0.operation == ordinal } }
}
