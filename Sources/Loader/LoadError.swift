/// A load that stopped: where in the input and why. Never quotes row data.
public struct LoadError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        /// A line is not valid JSON.
        public static let malformedLine = Code("malformed-line")
        /// A line is valid JSON but cannot become a row (no id, a value of the wrong type).
        public static let badRecord = Code("bad-record")
        /// More bad lines than `--max-rejects` allows.
        public static let tooManyRejects = Code("too-many-rejects")
        /// The mapping does not fit the database.
        public static let mapping = Code("mapping")
        /// The input could not be read.
        public static let input = Code("input")
        public var description: String { rawValue }
    }

    public var code: Code
    /// The input's name (file path or URL without query).
    public var source: String
    public var line: Int?
    public var byteOffset: Int?
    public var column: Int?
    public var reason: String

    public init(code: Code, source: String, line: Int? = nil, byteOffset: Int? = nil, column: Int? = nil, reason: String) {
        self.code = code
        self.source = source
        self.line = line
        self.byteOffset = byteOffset
        self.column = column
        self.reason = reason
    }

    public var description: String {
        var text = source
        if let line { text += ": line \(line)" }
        if let column { text += ", column \(column)" }
        if let byteOffset { text += " (byte offset \(byteOffset))" }
        return text + ": \(reason). Nothing was committed."
    }
}
