/// A GraphQL Admin API version: `YYYY-MM` (a quarterly release: month 01, 04, 07 or 10) or `unstable`.
public struct APIVersion: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// `year * 100 + month`; `unstable` sorts after every release.
    public let ordinal: Int
    public let description: String

    /// The version this tool is built and tested against.
    public static let `default` = APIVersion(year: 2026, month: 1)
    public static let unstable = APIVersion(ordinal: 999_999, description: "unstable")

    private init(ordinal: Int, description: String) {
        self.ordinal = ordinal
        self.description = description
    }

    private init(year: Int, month: Int) {
        self.ordinal = year * 100 + month
        self.description = String(year) + "-" + (month < 10 ? "0" : "") + String(month)
    }

    /// Parses `2026-01` or `unstable`; throws `badAPIVersion` with the accepted forms otherwise.
    public init(_ text: String) throws(ShopifyError) {
        let trimmed = text.trimmingASCIIWhitespace()
        if trimmed == "unstable" {
            self = .unstable
            return
        }
        let bytes = Array(trimmed.utf8)
        func digits(_ range: Range<Int>) -> Int? {
            var value = 0
            for i in range {
                guard bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(bytes[i] - UInt8(ascii: "0"))
            }
            return value
        }
        guard bytes.count == 7, bytes[4] == UInt8(ascii: "-"), let year = digits(0..<4), let month = digits(5..<7) else {
            throw ShopifyError(
                code: .badAPIVersion,
                message: "API version '\(text.prefix(40))' is not of the form YYYY-MM (e.g. 2026-01) or 'unstable'")
        }
        guard [1, 4, 7, 10].contains(month) else {
            throw ShopifyError(
                code: .badAPIVersion,
                message: "API version '\(trimmed)' does not exist: Shopify releases quarterly versions (months 01, 04, 07, 10)")
        }
        guard year >= 2019 else {
            throw ShopifyError(code: .badAPIVersion, message: "API version '\(trimmed)' predates the versioned Admin API (2019-04)")
        }
        self.init(year: year, month: month)
    }

    public static func < (lhs: APIVersion, rhs: APIVersion) -> Bool { lhs.ordinal < rhs.ordinal }

    // MARK: version-dependent behaviour (see docs/shopify-bulk-api.md §1, §2, §7)

    /// `BulkOperationUserError.code` exists (2025-01+); older versions only have `message`.
    public var hasUserErrorCode: Bool { ordinal >= 2025_01 }
    /// `bulkOperationRunQuery(groupObjects:)` exists (2025-07+).
    public var hasGroupObjects: Bool { ordinal >= 2025_07 }
    /// `bulkOperation(id:)` and `bulkOperations(...)` exist (2026-01+); older versions poll `node(id:)`
    /// and list with `currentBulkOperation`.
    public var hasBulkOperationQueries: Bool { ordinal >= 2026_01 }
    /// How many bulk query operations may run at once per app and shop.
    public var concurrentBulkQueries: Int { ordinal >= 2026_01 ? 5 : 1 }
}

extension String {
    func trimmingASCIIWhitespace() -> String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let end = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[start...end])
    }
}
