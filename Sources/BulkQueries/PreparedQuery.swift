import Foundation

/// A time window for a bulk query's search filter.
public struct QueryWindow: Sendable, Equatable, Codable {
    /// The search field: `updated_at` or `created_at` (any lower-case search field is accepted,
    /// e.g. `customer_date` or `processed_at`).
    public var field: String
    /// Inclusive (`field:>='…'`); rounded down to the second.
    public var start: Date?
    /// Exclusive (`field:<'…'`); rounded up to the second.
    public var end: Date?

    public init(field: String, start: Date?, end: Date?) {
        self.field = field
        self.start = start
        self.end = end
    }

    /// `updated_at:>='2025-06-01T00:00:00Z' AND updated_at:<'2025-07-01T00:00:00Z'` (only the bounds
    /// that are set), or nil when neither is.
    public var searchFilter: String? {
        var terms: [String] = []
        if let start { terms.append("\(field):>=\(Self.quoted(start, roundingUp: false))") }
        if let end { terms.append("\(field):<\(Self.quoted(end, roundingUp: true))") }
        return terms.isEmpty ? nil : terms.joined(separator: " AND ")
    }

    /// A single-quoted ISO-8601 UTC timestamp with whole seconds (`'2025-06-01T00:00:00Z'`): the form
    /// Shopify's search syntax needs (an unquoted date-time can lose its time part).
    public static func quoted(_ date: Date, roundingUp: Bool) -> String {
        let t = date.timeIntervalSince1970
        let seconds = Int64(roundingUp ? t.rounded(.up) : t.rounded(.down))
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(
            format: "'%04d-%02d-%02dT%02d:%02d:%02dZ'", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }
}

/// What to submit.
public struct PreparedQuery: Sendable, Equatable {
    /// The GraphQL query to put into `bulkOperationRunQuery(query:)`.
    public var text: String
    /// The top-level connection field (`orders`).
    public var rootField: String
    /// Its node type (`Order`).
    public var rootType: String
    /// Node types of all connections left in, root first (`["Order", "LineItem"]`); for an interface
    /// connection, the concrete types that can appear in GIDs.
    public var types: [String]
    /// Things worth saying that do not stop the query (a stripped `first:`, a sort key that does not
    /// pair with the window, …).
    public var warnings: [BulkRuleViolation]

    public init(text: String, rootField: String, rootType: String, types: [String], warnings: [BulkRuleViolation] = []) {
        self.text = text
        self.rootField = rootField
        self.rootType = rootType
        self.types = types
        self.warnings = warnings
    }

    /// The mutation that submits ``text`` (passed as the `$query` variable, so no escaping is needed).
    public static let runMutation = """
        mutation RunBulkQuery($query: String!) {
          bulkOperationRunQuery(query: $query, groupObjects: false) {
            bulkOperation { id status createdAt }
            userErrors { field message code }
          }
        }
        """
}

/// A bulk rule (or mapping rule) that a query file breaks, with where.
public struct BulkRuleViolation: Sendable, Equatable, CustomStringConvertible {
    public enum Rule: String, Sendable, Equatable, CaseIterable {
        /// The GraphQL parser refused the text.
        case syntax
        /// Not exactly one query operation.
        case operation
        /// `$variables` (bulk queries are submitted without any).
        case variables
        /// Undefined or self-spreading fragments.
        case fragment
        /// Not exactly one top-level field.
        case topLevelField = "top-level-field"
        /// A top-level `node` or `nodes`.
        case topLevelNode = "top-level-node"
        /// The top-level field is not a connection, or a known connection is not selected as one.
        case connection
        /// More than 5 connections.
        case tooManyConnections = "too-many-connections"
        /// Connections nested more than 2 levels deep.
        case nestingDepth = "nesting-depth"
        /// A connection inside a plain list field.
        case connectionInList = "connection-in-list"
        /// The real Admin API schema refuses the query (an unknown field, argument, enum value …).
        case schema
        /// A deprecated field, argument or enum value (warning, with Shopify's reason).
        case deprecated
        /// A field the shop's API version does not have yet (or any more).
        case apiVersion = "api-version"
        /// A connection's node selection lacks `id` where it needs one.
        case missingID = "missing-id"
        /// `first`/`last`/`after`/`before`/`pageInfo`/`cursor`: ignored by bulk (warning; stripped).
        case pagination
        /// `nodes` shorthand instead of `edges { node }` (warning: not documented for bulk).
        case nodesShorthand = "nodes-shorthand"
        /// A bad, unknown or misplaced `{{template}}`.
        case template
        /// The sort key does not pair with the window field (warning).
        case sortKey = "sort-key"
        /// The `#!` mapping does not agree with the query.
        case mapping
    }

    public enum Severity: String, Sendable, Equatable {
        case error, warning
    }

    public var rule: Rule
    public var message: String
    /// 1-based line and column in the query file.
    public var line: Int
    public var column: Int
    public var severity: Severity

    public init(_ rule: Rule, _ message: String, line: Int, column: Int, severity: Severity = .error) {
        self.rule = rule
        self.message = message
        self.line = line
        self.column = column
        self.severity = severity
    }

    public var isError: Bool { severity == .error }

    /// `12:7: message` (`warning: ` before the message for warnings); prefix the file name for the
    /// usual `file:line:column: message`.
    public var description: String {
        "\(line):\(column): " + (severity == .warning ? "warning: " : "") + message
    }
}
