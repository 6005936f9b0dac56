/// Why a JSONL line (or a JSON document) is invalid, and where.
///
/// `description` names the place and the reason but never prints the line's content.
public struct JSONLError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The reason, as an extensible code.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Base: UInt8, Sendable, Hashable {
            case unexpectedCharacter = 1
            case unexpectedEndOfLine
            case trailingCharacters
            case invalidNumber
            case invalidLiteral
            case controlCharacterInString
            case invalidEscape
            case invalidUnicodeEscape
            case loneSurrogate
            case invalidUTF8
            case tooDeep
            case lineTooLong
            case emptyDocument
            case parserFailed
        }
        let base: Base

        init(base: Base) { self.base = base }

        /// A byte that cannot start or continue JSON here.
        public static let unexpectedCharacter = Code(base: .unexpectedCharacter)
        /// The line (or document) ends inside a value.
        public static let unexpectedEndOfLine = Code(base: .unexpectedEndOfLine)
        /// Something other than whitespace follows the line's value.
        public static let trailingCharacters = Code(base: .trailingCharacters)
        /// A number does not follow RFC 8259 (leading zeros, missing digits, `+`, ...).
        public static let invalidNumber = Code(base: .invalidNumber)
        /// A misspelt `true`, `false` or `null`.
        public static let invalidLiteral = Code(base: .invalidLiteral)
        /// An unescaped byte below U+0020 inside a string.
        public static let controlCharacterInString = Code(base: .controlCharacterInString)
        /// A backslash followed by something other than `"\/bfnrtu`.
        public static let invalidEscape = Code(base: .invalidEscape)
        /// `\u` not followed by four hex digits.
        public static let invalidUnicodeEscape = Code(base: .invalidUnicodeEscape)
        /// A `\uD800`–`\uDFFF` escape that is not part of a high+low surrogate pair.
        public static let loneSurrogate = Code(base: .loneSurrogate)
        /// Bytes that are not well-formed UTF-8 (overlong, surrogate, above U+10FFFF, truncated, stray).
        public static let invalidUTF8 = Code(base: .invalidUTF8)
        /// Nesting deeper than `Options.maxDepth`.
        public static let tooDeep = Code(base: .tooDeep)
        /// The line is longer than `Options.maxLineLength` bytes.
        public static let lineTooLong = Code(base: .lineTooLong)
        /// A document with no value at all (only for whole-document validation; blank JSONL lines are skipped).
        public static let emptyDocument = Code(base: .emptyDocument)
        /// The parser was used again after it had thrown.
        public static let parserFailed = Code(base: .parserFailed)

        public var description: String {
            switch base {
            case .unexpectedCharacter: "unexpected character"
            case .unexpectedEndOfLine: "unexpected end of line"
            case .trailingCharacters: "unexpected characters after the value"
            case .invalidNumber: "invalid number"
            case .invalidLiteral: "invalid literal (expected true, false or null)"
            case .controlCharacterInString: "unescaped control character in string"
            case .invalidEscape: "invalid escape sequence"
            case .invalidUnicodeEscape: "invalid \\u escape (expected four hex digits)"
            case .loneSurrogate: "unpaired UTF-16 surrogate in \\u escape"
            case .invalidUTF8: "invalid UTF-8"
            case .tooDeep: "nesting too deep"
            case .lineTooLong: "line too long"
            case .emptyDocument: "empty document"
            case .parserFailed: "parser used after a failure"
            }
        }
    }

    /// The reason.
    public var code: Code
    /// The line number, 1-based (every `\n` counts, blank lines included).
    public var line: Int
    /// The column of the offending byte, 1-based, counted in bytes from the line's start.
    public var column: Int
    /// The byte offset of the line's first byte in the whole stream.
    public var lineByteOffset: Int

    /// The byte offset of the offending byte in the whole stream.
    public var byteOffset: Int { lineByteOffset + column - 1 }
    /// A human-readable reason (the code's description).
    public var reason: String { code.description }

    public init(code: Code, line: Int, column: Int, lineByteOffset: Int) {
        self.code = code
        self.line = line
        self.column = column
        self.lineByteOffset = lineByteOffset
    }

    public var description: String {
        "JSONL line \(line), column \(column) (byte offset \(byteOffset)): \(code)"
    }
}

/// A failure inside the byte scanner: the reason and the 0-based position in the line.
struct ScanFailure: Error {
    var code: JSONLError.Code.Base
    var position: Int
}
