import Loader

/// A problem with a query file or its mapping; names the file and, where known, the line.
public struct QueryFileError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var message: String
    /// The bulk-rule violations (errors only) when the error is "the query breaks the bulk rules".
    public var violations: [BulkRuleViolation]

    public init(file: String, line: Int? = nil, message: String) {
        self.file = file
        self.line = line
        self.message = message
        self.violations = []
    }

    /// The same problem, found in the mapping.
    public init(_ error: MappingError) { self.init(file: error.file, line: error.line, message: error.message) }

    /// "The query breaks these rules"; `line` and `message` come from the first violation.
    public init(file: String, violations: [BulkRuleViolation]) {
        self.file = file
        self.line = violations.first?.line
        self.message = violations.first?.message ?? "the query does not pass the bulk rules"
        self.violations = violations
    }

    public var description: String {
        if violations.count > 1 || (violations.count == 1 && violations[0].column > 0) {
            return violations.map { "\(file):\($0)" }.joined(separator: "\n")
        }
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}
