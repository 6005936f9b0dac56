import Foundation

/// A bulk operation as Shopify last reported it.
public struct BulkOperation: Sendable, Hashable, Identifiable {
    /// `BulkOperationStatus`. Open: values this client does not know are kept, not rejected.
    public struct Status: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let created = Status(rawValue: "CREATED")
        public static let running = Status(rawValue: "RUNNING")
        public static let completed = Status(rawValue: "COMPLETED")
        public static let failed = Status(rawValue: "FAILED")
        public static let canceling = Status(rawValue: "CANCELING")
        public static let canceled = Status(rawValue: "CANCELED")
        public static let expired = Status(rawValue: "EXPIRED")
        public static let known: [Status] = [.created, .running, .completed, .failed, .canceling, .canceled, .expired]

        public var description: String { rawValue }
        /// Whether the operation may still change on its own (`CREATED`, `RUNNING`, `CANCELING`).
        public var isActive: Bool { self == .created || self == .running || self == .canceling }
        public var isKnown: Bool { Status.known.contains(self) }
    }

    /// `BulkOperationErrorCode`, open like `Status`.
    public struct ErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        /// Missing access scopes (or protected customer data not approved).
        public static let accessDenied = ErrorCode(rawValue: "ACCESS_DENIED")
        /// May be transient; resubmit.
        public static let internalServerError = ErrorCode(rawValue: "INTERNAL_SERVER_ERROR")
        /// The query timed out during execution: select fewer fields or a smaller range.
        public static let timeout = ErrorCode(rawValue: "TIMEOUT")
        public var description: String { rawValue }
    }

    /// `gid://shopify/BulkOperation/<n>`
    public var id: String
    public var status: Status
    public var errorCode: ErrorCode?
    public var createdAt: Date?
    public var completedAt: Date?
    /// All objects so far (parents and children).
    public var objectCount: Int64
    /// Top-level objects so far.
    public var rootObjectCount: Int64
    /// Bytes of the file at `url`.
    public var fileSize: Int64?
    /// The JSONL result (a signed link, valid 7 days); nil on `COMPLETED` when nothing matched.
    public var url: String?
    /// JSONL of whatever was fetched before a failure, if Shopify kept it.
    public var partialDataURL: String?
    /// The submitted query.
    public var query: String?

    public init(
        id: String, status: Status, errorCode: ErrorCode? = nil, createdAt: Date? = nil, completedAt: Date? = nil,
        objectCount: Int64 = 0, rootObjectCount: Int64 = 0, fileSize: Int64? = nil, url: String? = nil,
        partialDataURL: String? = nil, query: String? = nil
    ) {
        self.id = id
        self.status = status
        self.errorCode = errorCode
        self.createdAt = createdAt
        self.completedAt = completedAt
        self.objectCount = objectCount
        self.rootObjectCount = rootObjectCount
        self.fileSize = fileSize
        self.url = url
        self.partialDataURL = partialDataURL
        self.query = query
    }

    /// The selection this client asks for whenever it reads an operation.
    static let selection = "id status errorCode createdAt completedAt objectCount rootObjectCount fileSize url partialDataUrl query"

    /// Decodes a `BulkOperation` object; `UnsignedInt64` fields arrive as strings.
    init(json: JSONValue) throws(ShopifyError) {
        guard let id = json["id"]?.string, let status = json["status"]?.string else {
            throw ShopifyError(code: .badResponse, message: "a BulkOperation without id or status")
        }
        self.init(
            id: id, status: Status(rawValue: status), errorCode: json["errorCode"]?.string.map(ErrorCode.init(rawValue:)),
            createdAt: json["createdAt"]?.string.flatMap(ISO8601.parse),
            completedAt: json["completedAt"]?.string.flatMap(ISO8601.parse),
            objectCount: json["objectCount"]?.int64 ?? 0, rootObjectCount: json["rootObjectCount"]?.int64 ?? 0,
            fileSize: json["fileSize"]?.int64, url: json["url"]?.string, partialDataURL: json["partialDataUrl"]?.string,
            query: json["query"]?.string)
    }
}

extension BulkOperation: CustomStringConvertible {
    /// The operation without its signed URLs' signatures.
    public var description: String {
        var text = "\(id) \(status)"
        if let errorCode { text += " (\(errorCode))" }
        text += " objects=\(objectCount)"
        if let fileSize { text += " bytes=\(fileSize)" }
        if let url { text += " url=\(url.redactedURL)" }
        if let partialDataURL { text += " partialDataUrl=\(partialDataURL.redactedURL)" }
        return text
    }
}

/// `DateTime` values: `2025-06-03T10:15:00Z`, with optional fraction and offset.
enum ISO8601 {
    static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        func num(_ from: Int, _ len: Int) -> Int? {
            guard from + len <= b.count else { return nil }
            var v = 0
            for i in from..<(from + len) {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        guard b.count >= 19, let y = num(0, 4), b[4] == 45, let mo = num(5, 2), b[7] == 45, let d = num(8, 2),
            b[10] == 84 || b[10] == 116 || b[10] == 32, let h = num(11, 2), b[13] == 58, let mi = num(14, 2), b[16] == 58,
            let s = num(17, 2), (1...12).contains(mo), (1...31).contains(d)
        else { return nil }
        var i = 19
        var fraction = 0.0
        if i < b.count, b[i] == 46 {
            var scale = 0.1
            i += 1
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                fraction += Double(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
        }
        var offset = 0
        if i < b.count {
            if b[i] == 90 || b[i] == 122 {
                i += 1
            } else if b[i] == 43 || b[i] == 45 {
                let sign = b[i] == 43 ? 1 : -1
                guard let oh = num(i + 1, 2) else { return nil }
                var j = i + 3
                if j < b.count, b[j] == 58 { j += 1 }
                guard let om = num(j, 2) else { return nil }
                offset = sign * (oh * 3600 + om * 60)
                i = j + 2
            }
        }
        guard i == b.count else { return nil }
        // Days from civil (Howard Hinnant).
        let yy = mo <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let mp = mo > 2 ? mo - 3 : mo + 9
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        let seconds = Double(days * 86400 + h * 3600 + mi * 60 + s - offset) + fraction
        return Date(timeIntervalSince1970: seconds)
    }
}
