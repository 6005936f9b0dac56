/// An error from PostgreSQL or from libpq. It carries SQLSTATE, the server's message and detail and the
/// name the caller gave the failing statement; its `description` never prints parameter values, the
/// DETAIL line (which can quote row data) or a password.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// Where the error arose, as an extensible code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        /// Could not connect (server down, wrong host, authentication failed).
        public static let connection = Code("connection")
        /// The server rejected a statement; `sqlState` says why.
        public static let server = Code("server")
        /// The connection broke or libpq refused a call.
        public static let protocolError = Code("protocol")
        /// A value could not be written into a COPY stream (e.g. a NUL byte).
        public static let copyData = Code("copy-data")
        /// A result value could not be decoded into the requested type.
        public static let decoding = Code("decoding")
        /// A parameter could not be sent (e.g. a NUL byte in text).
        public static let parameter = Code("parameter")
        public var description: String { rawValue }
    }

    public var code: Code
    /// The five-character SQLSTATE, for server errors (`23505` is a unique violation).
    public var sqlState: String?
    /// The primary message.
    public var message: String
    /// The server's DETAIL, which may quote row values: kept for programs, never printed by `description`.
    public var detail: String?
    public var hint: String?
    /// The constraint a violation concerns, if any.
    public var constraint: String?
    /// The caller's name for the failing statement.
    public var statement: String?

    public init(
        code: Code, sqlState: String? = nil, message: String, detail: String? = nil, hint: String? = nil,
        constraint: String? = nil, statement: String? = nil
    ) {
        self.code = code
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
        self.statement = statement
    }

    /// Data errors (class 22) and constraint violations (class 23) may quote the offending value in
    /// their message ("invalid input syntax for type integer: \"abc\""): that is row data, so quoted
    /// parts are elided.
    static func withoutQuotedValues(_ message: String, sqlState: String?) -> String {
        guard let state = sqlState, state.hasPrefix("22") || state.hasPrefix("23") else { return message }
        var out = ""
        var inQuote = false
        for ch in message {
            if ch == "\"" {
                if !inQuote { out += "\"…" }
                inQuote.toggle()
                if !inQuote { out.append("\"") }
                continue
            }
            if !inQuote { out.append(ch) }
        }
        return out
    }

    /// SQLSTATE 23505.
    public var isUniqueViolation: Bool { sqlState == "23505" }

    public var description: String {
        var text = "PostgreSQL \(code) error"
        if let statement { text += " in \(statement)" }
        text += ": \(Self.withoutQuotedValues(message, sqlState: sqlState))"
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        if let constraint { text += " [constraint \(constraint)]" }
        if let hint { text += " Hint: \(hint)" }
        return text
    }
}
