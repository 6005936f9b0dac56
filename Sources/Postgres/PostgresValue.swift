import Foundation

/// A value that can be sent as a statement parameter in PostgreSQL's text format.
public protocol PostgresBindable: Sendable {
    /// The text form PostgreSQL parses for this value, or `nil` for SQL NULL.
    var postgresText: String? { get }
}

extension String: PostgresBindable { public var postgresText: String? { self } }
extension Int: PostgresBindable { public var postgresText: String? { String(self) } }
extension Int64: PostgresBindable { public var postgresText: String? { String(self) } }
extension Int32: PostgresBindable { public var postgresText: String? { String(self) } }
extension Bool: PostgresBindable { public var postgresText: String? { self ? "true" : "false" } }
extension Double: PostgresBindable { public var postgresText: String? { String(self) } }
extension Optional: PostgresBindable where Wrapped: PostgresBindable {
    public var postgresText: String? { self?.postgresText }
}
extension Date: PostgresBindable {
    /// ISO 8601 with microseconds, UTC.
    public var postgresText: String? {
        let seconds = timeIntervalSince1970
        let whole = floor(seconds)
        let micros = Int(((seconds - whole) * 1_000_000).rounded())
        var t = time_t(whole)
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(
            format: "%04d-%02d-%02d %02d:%02d:%02d.%06d+00", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), micros)
    }
}
extension Array: PostgresBindable where Element == String {
    /// A PostgreSQL array literal with every element quoted.
    public var postgresText: String? {
        var out = "{"
        for (i, element) in enumerated() {
            if i > 0 { out += "," }
            out += "\""
            for scalar in element.unicodeScalars {
                if scalar == "\"" || scalar == "\\" { out += "\\" }
                out.unicodeScalars.append(scalar)
            }
            out += "\""
        }
        return out + "}"
    }
}

/// One value of a result row, in PostgreSQL's text format.
public struct PostgresCell: Sendable, Equatable {
    /// The text, or `nil` for NULL.
    public var text: String?
    public var column: String

    public var isNull: Bool { text == nil }

    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self) throws(PostgresError) -> T {
        guard let text else {
            throw PostgresError(code: .decoding, message: "column \(column) is NULL, expected \(T.self)")
        }
        guard let value = T(postgresText: text) else {
            throw PostgresError(code: .decoding, message: "column \(column) cannot be read as \(T.self)")
        }
        return value
    }

    public func decode<T: PostgresDecodable>(_ type: T?.Type) throws(PostgresError) -> T? {
        guard let text else { return nil }
        guard let value = T(postgresText: text) else {
            throw PostgresError(code: .decoding, message: "column \(column) cannot be read as \(T.self)")
        }
        return value
    }

    public var string: String? { text }
    public var int: Int? { text.flatMap { Int($0) } }
    public var int64: Int64? { text.flatMap { Int64($0) } }
    public var bool: Bool? { text.map { $0 == "t" || $0 == "true" } }
}

/// A type that can be read from PostgreSQL's text format.
public protocol PostgresDecodable {
    init?(postgresText: String)
}

extension String: PostgresDecodable { public init?(postgresText: String) { self = postgresText } }
extension Int: PostgresDecodable { public init?(postgresText: String) { self.init(postgresText) } }
extension Int64: PostgresDecodable { public init?(postgresText: String) { self.init(postgresText) } }
extension Bool: PostgresDecodable {
    public init?(postgresText: String) {
        switch postgresText {
        case "t", "true": self = true
        case "f", "false": self = false
        default: return nil
        }
    }
}
extension Double: PostgresDecodable { public init?(postgresText: String) { self.init(postgresText) } }

/// One result row.
public struct PostgresRow: Sendable {
    public var cells: [PostgresCell]
    let index: [String: Int]

    public subscript(_ position: Int) -> PostgresCell { cells[position] }
    public subscript(_ name: String) -> PostgresCell {
        guard let i = index[name] else { return PostgresCell(text: nil, column: name) }
        return cells[i]
    }
}

/// The rows of a statement's result, fully read.
public struct PostgresResult: Sendable, Sequence {
    public var columns: [String]
    public var rows: [PostgresRow]
    /// Rows inserted, updated, deleted or copied, as the command tag reports.
    public var affectedRows: Int

    public func makeIterator() -> IndexingIterator<[PostgresRow]> { rows.makeIterator() }
    public var first: PostgresRow? { rows.first }
    public var count: Int { rows.count }
}
