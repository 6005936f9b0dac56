import Postgres

/// How a JSON value is turned into a column's COPY text, decided by the column's PostgreSQL type.
enum ColumnKind: String, Sendable, Equatable {
    /// `bigint`: a number, or a Shopify GID / numeric string (`gid://shopify/Order/123` → 123).
    case bigint
    /// `integer` / `smallint`: a whole number.
    case integer
    /// `numeric`: money as Shopify sends it (`"8.97"`), exact.
    case numeric
    case boolean
    /// `timestamptz`, `timestamp`, `date`: ISO 8601 text, passed through.
    case timestamp
    /// `jsonb` / `json`: the raw JSON value.
    case json
    /// `text[]`: an array of strings.
    case textArray
    /// `text` and anything else: strings unescaped, other values as their JSON text.
    case text

    init(sqlType: String) {
        switch sqlType {
        case "bigint": self = .bigint
        case "integer", "smallint": self = .integer
        case "boolean": self = .boolean
        case "jsonb", "json": self = .json
        case "text[]", "character varying[]": self = .textArray
        default:
            if sqlType.hasPrefix("numeric") || sqlType == "double precision" || sqlType == "real" {
                self = .numeric
            } else if sqlType.hasPrefix("timestamp") || sqlType == "date" {
                self = .timestamp
            } else {
                self = .text
            }
        }
    }
}

/// The columns of a table as the database has them.
public struct TableSchema: Sendable {
    public var table: String
    /// Column name → SQL type as `format_type` prints it.
    public var columns: [String: String]
    public var order: [String]

    public func has(_ column: String) -> Bool { columns[column] != nil }

    public static func read(_ table: String, on connection: PostgresConnection) throws -> TableSchema? {
        let result = try connection.query(
            """
            SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
            FROM pg_attribute a
            WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum
            """, [table], name: "read columns of \(table)")
        guard result.count > 0 else { return nil }
        var columns: [String: String] = [:]
        var order: [String] = []
        for row in result {
            let name = try row["name"].decode(String.self)
            columns[name] = try row["type"].decode(String.self)
            order.append(name)
        }
        return TableSchema(table: table, columns: columns, order: order)
    }
}
