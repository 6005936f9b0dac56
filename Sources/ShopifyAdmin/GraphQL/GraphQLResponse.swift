/// One entry of a GraphQL response's top-level `errors`.
public struct GraphQLError: Sendable, Hashable, CustomStringConvertible {
    public var message: String
    /// The path to the field, e.g. `["customers", "edges", "0"]`.
    public var path: [String]
    /// `extensions.code`, e.g. `THROTTLED`, `ACCESS_DENIED`, `MAX_COST_EXCEEDED`.
    public var code: String?

    public init(message: String, path: [String] = [], code: String? = nil) {
        self.message = message
        self.path = path
        self.code = code
    }

    /// The server's words, escaped (`TerminalText`): they end up in errors printed on a terminal and
    /// stored in `sync_runs`.
    public var description: String {
        var text = message.visiblyEscaped
        if !path.isEmpty { text += " (at \(path.joined(separator: ".").visiblyEscaped))" }
        if let code { text += " [\(code.visiblyEscaped)]" }
        return text
    }
}

/// `extensions.cost` of a response.
public struct QueryCost: Sendable, Hashable {
    public var requestedQueryCost: Double?
    public var actualQueryCost: Double?
    public var throttleStatus: ThrottleStatus?

    public init(requestedQueryCost: Double? = nil, actualQueryCost: Double? = nil, throttleStatus: ThrottleStatus? = nil) {
        self.requestedQueryCost = requestedQueryCost
        self.actualQueryCost = actualQueryCost
        self.throttleStatus = throttleStatus
    }
}

/// `extensions.cost.throttleStatus`: the app's leaky bucket as Shopify saw it.
public struct ThrottleStatus: Sendable, Hashable {
    public var maximumAvailable: Double
    public var currentlyAvailable: Double
    public var restoreRate: Double

    public init(maximumAvailable: Double, currentlyAvailable: Double, restoreRate: Double) {
        self.maximumAvailable = maximumAvailable
        self.currentlyAvailable = currentlyAvailable
        self.restoreRate = restoreRate
    }
}

/// A decoded GraphQL response.
public struct GraphQLResponse: Sendable {
    /// `data`, or nil when absent or `null`.
    public var data: JSONValue?
    public var errors: [GraphQLError]
    public var cost: QueryCost?

    public init(data: JSONValue?, errors: [GraphQLError], cost: QueryCost?) {
        self.data = data
        self.errors = errors
        self.cost = cost
    }

    /// Whether Shopify throttled the request (`THROTTLED` in `errors`).
    public var isThrottled: Bool { errors.contains { $0.code == "THROTTLED" } }

    /// Decodes a response body. Shopify's `errors` come as a list of objects, and for request-level
    /// failures as a plain string or an object of messages; all three are accepted.
    public static func decode(_ body: [UInt8]) throws(ShopifyError) -> GraphQLResponse {
        let root: JSONValue
        do { root = try JSONValue.parse(body) } catch {
            throw ShopifyError(code: .badResponse, message: "the response is not JSON (\(body.count) bytes)")
        }
        guard case .object(let object) = root else {
            throw ShopifyError(code: .badResponse, message: "the response is not a JSON object")
        }
        var errors: [GraphQLError] = []
        switch object["errors"] {
        case .array(let list)?:
            for entry in list {
                let message = entry["message"]?.string ?? "(no message)"
                let path =
                    entry["path"]?.array?.map { element -> String in
                        if let s = element.string { return s }
                        if let i = element.int64 { return String(i) }
                        return "?"
                    } ?? []
                errors.append(GraphQLError(message: message, path: path, code: entry["extensions"]?["code"]?.string))
            }
        case .string(let message)?:
            errors.append(GraphQLError(message: message))
        case .object(let fields)?:
            for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
                errors.append(GraphQLError(message: "\(key): \(value.string ?? "invalid")"))
            }
        default:
            break
        }
        var data = object["data"]
        if data?.isNull == true { data = nil }
        var cost: QueryCost?
        if let c = object["extensions"]?["cost"] {
            var status: ThrottleStatus?
            if let t = c["throttleStatus"], let max = t["maximumAvailable"]?.double, let current = t["currentlyAvailable"]?.double,
                let rate = t["restoreRate"]?.double
            {
                status = ThrottleStatus(maximumAvailable: max, currentlyAvailable: current, restoreRate: rate)
            }
            cost = QueryCost(
                requestedQueryCost: c["requestedQueryCost"]?.double, actualQueryCost: c["actualQueryCost"]?.double,
                throttleStatus: status)
        }
        return GraphQLResponse(data: data, errors: errors, cost: cost)
    }
}
