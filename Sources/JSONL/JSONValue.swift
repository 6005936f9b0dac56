/// A JSON value as a tree: the general-purpose view for tests and ad-hoc use (it allocates; the
/// loader's hot path uses ``JSONLParser`` with a ``FieldPlan`` instead).
///
/// Numbers keep their text as written; strings are unescaped; object members keep their order and
/// duplicates.
public indirect enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// A number exactly as written.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([Member])

    /// One object member.
    public struct Member: Sendable, Hashable {
        public var key: String
        public var value: JSONValue
        public init(_ key: String, _ value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// Parses one JSON document (whitespace, including newlines, around one value) strictly.
    ///
    /// - Throws: ``JSONLError`` with line 1-based counted by `\n` within the document.
    public init(parsing bytes: UnsafeRawBufferPointer, maxDepth: Int = 512) throws(JSONLError) {
        try JSONDocument.validate(bytes, maxDepth: maxDepth)
        self = JSONValue.build(bytes)
    }

    /// Parses one JSON document given as text.
    public init(parsing text: String, maxDepth: Int = 512) throws(JSONLError) {
        var text = text
        let result: Result<JSONValue, JSONLError> = text.withUTF8 { utf8 in
            do throws(JSONLError) {
                return .success(try JSONValue(parsing: UnsafeRawBufferPointer(utf8), maxDepth: maxDepth))
            } catch {
                return .failure(error)
            }
        }
        self = try result.get()
    }

    /// The member `key` of an object (the last one, if duplicated), or nil.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last(where: { $0.key == key })?.value
    }

    /// Builds the tree of an already validated document, iteratively.
    static func build(_ bytes: UnsafeRawBufferPointer) -> JSONValue {
        let p = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let end = bytes.count
        enum Open {
            case array([JSONValue])
            case object([Member], key: String)
        }
        var stack: [Open] = []
        var i = 0

        func readString(_ i: inout Int) -> String {
            // p[i] is the opening quote.
            var j = i + 1
            var escaped = false
            while p[j] != 0x22 {
                if p[j] == 0x5C {
                    escaped = true
                    j += 2
                } else {
                    j += 1
                }
            }
            let count = j - i - 1
            let text: String
            if escaped {
                text = String(unsafeUninitializedCapacity: max(count, 1)) { buffer in
                    Scanner.unescape(p + (i + 1), count, buffer.baseAddress!)
                }
            } else {
                text = String(decoding: UnsafeBufferPointer(start: p + (i + 1), count: count), as: UTF8.self)
            }
            i = j + 1
            return text
        }

        func readKey(_ i: inout Int) -> String {
            i = Scanner.skipWhitespace(p, i, end)
            let key = readString(&i)
            i = Scanner.skipWhitespace(p, i, end)
            i += 1  // :
            return key
        }

        while true {
            i = Scanner.skipWhitespace(p, i, end)
            var value: JSONValue
            switch p[i] {
            case 0x7B:
                i = Scanner.skipWhitespace(p, i + 1, end)
                if p[i] == 0x7D {
                    i += 1
                    value = .object([])
                } else {
                    stack.append(.object([], key: readKey(&i)))
                    continue
                }
            case 0x5B:
                i = Scanner.skipWhitespace(p, i + 1, end)
                if p[i] == 0x5D {
                    i += 1
                    value = .array([])
                } else {
                    stack.append(.array([]))
                    continue
                }
            case 0x22:
                value = .string(readString(&i))
            case 0x74:
                value = .bool(true)
                i += 4
            case 0x66:
                value = .bool(false)
                i += 5
            case 0x6E:
                value = .null
                i += 4
            default:
                let e = try! Scanner.scanNumber(p, i, end)
                value = .number(String(decoding: UnsafeBufferPointer(start: p + i, count: e - i), as: UTF8.self))
                i = e
            }
            // Attach the finished value; close containers as long as they end here.
            while true {
                guard let top = stack.popLast() else { return value }
                i = Scanner.skipWhitespace(p, i, end)
                let c = p[i]
                i += 1
                switch top {
                case .array(var elements):
                    elements.append(value)
                    if c == 0x2C {
                        stack.append(.array(elements))
                    } else {
                        value = .array(elements)
                        continue
                    }
                case .object(var members, let key):
                    members.append(Member(key, value))
                    if c == 0x2C {
                        stack.append(.object(members, key: readKey(&i)))
                    } else {
                        value = .object(members)
                        continue
                    }
                }
                break
            }
        }
    }

    /// Compact JSON text of the value (strings escaped minimally: `"`, `\`, control characters).
    public var jsonText: String {
        var out = ""
        write(to: &out)
        return out
    }

    private func write(to out: inout String) {
        // Recursion is fine here: trees come from the depth-limited parser or from test code.
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let elements):
            out += "["
            for (k, element) in elements.enumerated() {
                if k > 0 { out += "," }
                element.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (k, member) in members.enumerated() {
                if k > 0 { out += "," }
                JSONValue.writeString(member.key, to: &out)
                out += ":"
                member.value.write(to: &out)
            }
            out += "}"
        }
    }

    static func writeString(_ s: String, to out: inout String) { JSONString.write(s, to: &out) }
}

/// Whole-document validation (RFC 8259: whitespace, newlines included, around exactly one value).
public enum JSONDocument {
    /// Validates `bytes` as one JSON document.
    ///
    /// - Throws: ``JSONLError`` whose `line` and `column` are counted within the document
    ///   (`lineByteOffset` is the offset of that line in `bytes`).
    public static func validate(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = 512) throws(JSONLError) {
        let storage = ParserStorage(plan: .validateOnly, options: .init(maxDepth: maxDepth))
        let p = (bytes.baseAddress ?? UnsafeRawPointer(storage.arena)).assumingMemoryBound(to: UInt8.self)
        let env = ScanEnvironment(
            nodes: storage.nodes, keys: storage.keys, tables: storage.tables, slots: storage.slots,
            frames: storage.frames, maxDepth: maxDepth, arena: storage.arena, rest: nil)
        do throws(ScanFailure) {
            _ = try Scanner.scan(p, bytes.count, env)
        } catch {
            var line = 1
            var lineStart = 0
            for k in 0..<min(error.position, bytes.count) where p[k] == 0x0A {
                line += 1
                lineStart = k + 1
            }
            throw JSONLError(
                code: .init(base: error.code), line: line, column: error.position - lineStart + 1,
                lineByteOffset: lineStart)
        }
    }
}
