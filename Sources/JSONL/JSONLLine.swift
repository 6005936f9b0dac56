/// One parsed JSONL line, handed to the handler of ``JSONLParser/feed(_:_:)``.
///
/// A borrowed view: the line, its slots and their bytes are valid only during the callback (they
/// point into the fed chunk or the parser's buffers). Copy out what you keep.
///
/// For a line whose value is not an object (an array, a scalar), every slot is ``JSONLField/Kind/absent``
/// and ``unmatched`` is nil. For an invalid line (only with ``JSONLParser/InvalidLines/report``),
/// ``error`` is set, every slot is absent and ``unmatched`` is nil.
public struct JSONLLine: ~Copyable {
    /// The line number, 1-based; every `\n` counts (blank lines are skipped but numbered).
    public let number: Int
    /// The byte offset of the line's first byte in the whole stream.
    public let byteOffset: Int
    /// The raw line, without its `\n` or `\r\n` terminator. Empty for a line that is too long.
    public let bytes: UnsafeRawBufferPointer
    /// Why the line is invalid; nil for a valid line.
    public let error: JSONLError?
    /// Whether the line's value is an object.
    public let isObject: Bool
    /// The number of slots (the plan's path count).
    public let slotCount: Int
    @usableFromInline let slots: UnsafePointer<SlotRecord>
    let unmatchedBytes: UnsafeRawBufferPointer?

    init(
        number: Int, byteOffset: Int, bytes: UnsafeRawBufferPointer, error: JSONLError?, isObject: Bool,
        slots: UnsafePointer<SlotRecord>, slotCount: Int, unmatched: UnsafeRawBufferPointer?
    ) {
        self.number = number
        self.byteOffset = byteOffset
        self.bytes = bytes
        self.error = error
        self.isObject = isObject
        self.slots = slots
        self.slotCount = slotCount
        self.unmatchedBytes = unmatched
    }

    /// The value of plan slot `slot` (`0..<slotCount`) in this line.
    @inlinable
    public subscript(slot: Int) -> JSONLField {
        precondition(slot >= 0 && slot < slotCount, "slot out of range")
        let record = slots[slot]
        if error != nil || record.kind == .absent { return JSONLField(kind: .absent, bytes: .init(start: nil, count: 0)) }
        return JSONLField(kind: record.kind, bytes: UnsafeRawBufferPointer(start: record.base, count: record.count))
    }

    /// With `collectUnmatched`, the top-level members no path covers, as one raw JSON object text
    /// `{"k":<raw value>,...}` (`{}` when there are none). Nil when not collecting, for a line that is
    /// not an object, and for an invalid line.
    public var unmatched: UnsafeRawBufferPointer? { error == nil ? unmatchedBytes : nil }

    /// The whole line as a ``JSONValue`` tree (allocates; for tests and ad-hoc use, not the hot path).
    /// Nil for an invalid line.
    public func value() -> JSONValue? {
        guard error == nil else { return nil }
        return try? JSONValue(parsing: bytes)
    }
}

/// The value of one plan slot in one line: its kind and bytes, valid during the handler's callback.
public struct JSONLField {
    /// What a slot holds.
    public enum Kind: UInt8, Sendable, Hashable {
        /// The member is not in the line (or the line is invalid, or not an object, or a parent on
        /// the path is not an object).
        case absent
        /// `null`; the bytes are `null`.
        case null
        /// `true` or `false`, as written.
        case bool
        /// A number exactly as written (never converted through `Double`).
        case number
        /// A string, unescaped to UTF-8 (`\uXXXX` surrogate pairs joined). May contain U+0000.
        case string
        /// An object: its raw JSON text as written (valid JSON, ready for `jsonb`).
        case object
        /// An array: its raw JSON text as written; see ``JSONLField/forEachElement(_:)``.
        case array
    }

    /// The kind of value.
    public let kind: Kind
    /// The bytes: see ``Kind``. Empty for ``Kind/absent``.
    public let bytes: UnsafeRawBufferPointer

    @usableFromInline
    init(kind: Kind, bytes: UnsafeRawBufferPointer) {
        self.kind = kind
        self.bytes = bytes
    }

    /// Whether the slot is absent or `null` (SQL NULL for most columns).
    public var isNullOrAbsent: Bool { kind == .absent || kind == .null }

    /// `true`/`false` for a bool, nil otherwise.
    public var boolValue: Bool? {
        kind == .bool ? bytes.count == 4 : nil
    }

    /// The bytes as a `String` (allocates): the unescaped string, the number's or literal's text, or
    /// the raw JSON of an object/array. Nil when absent.
    public var text: String? {
        kind == .absent ? nil : String(decoding: bytes, as: UTF8.self)
    }

    /// Calls `body` for each element of an array slot, in order: strings unescaped, numbers and
    /// literals as written, nested objects and arrays as raw JSON text. Does nothing for other kinds.
    /// The element bytes are valid only during the call.
    public func forEachElement<E: Error>(_ body: (JSONLField) throws(E) -> Void) throws(E) {
        guard kind == .array, let base = bytes.baseAddress else { return }
        try ArrayWalker.forEachElement(base.assumingMemoryBound(to: UInt8.self), bytes.count, body)
    }
}

/// Walks the elements of an array text that the scanner has already validated.
enum ArrayWalker {
    static func forEachElement<E: Error>(
        _ p: UnsafePointer<UInt8>, _ count: Int, _ body: (JSONLField) throws(E) -> Void
    ) throws(E) {
        var i = Scanner.skipWhitespace(p, 1, count)
        if p[i] == 0x5D { return }
        while true {
            i = Scanner.skipWhitespace(p, i, count)
            let start = i
            let c = p[i]
            switch c {
            case 0x22:
                var j = i &+ 1
                var escaped = false
                while p[j] != 0x22 {
                    if p[j] == 0x5C {
                        escaped = true
                        j &+= 2
                    } else {
                        j &+= 1
                    }
                }
                let contentCount = j &- i &- 1
                if escaped {
                    try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: contentCount) {
                        (buffer) throws(E) -> Void in
                        let n = Scanner.unescape(p + (i &+ 1), contentCount, buffer.baseAddress!)
                        try body(JSONLField(kind: .string, bytes: UnsafeRawBufferPointer(start: buffer.baseAddress, count: n)))
                    }
                } else {
                    try body(JSONLField(kind: .string, bytes: UnsafeRawBufferPointer(start: p + (i &+ 1), count: contentCount)))
                }
                i = j &+ 1
            case 0x7B, 0x5B:
                var depth = 0
                var j = i
                repeat {
                    let b = p[j]
                    if b == 0x22 {
                        j &+= 1
                        while p[j] != 0x22 { j &+= p[j] == 0x5C ? 2 : 1 }
                    } else if b == 0x7B || b == 0x5B {
                        depth &+= 1
                    } else if b == 0x7D || b == 0x5D {
                        depth &-= 1
                    }
                    j &+= 1
                } while depth > 0
                try body(JSONLField(kind: c == 0x7B ? .object : .array, bytes: UnsafeRawBufferPointer(start: p + start, count: j &- start)))
                i = j
            case 0x74, 0x6E:
                try body(JSONLField(kind: c == 0x74 ? .bool : .null, bytes: UnsafeRawBufferPointer(start: p + start, count: 4)))
                i &+= 4
            case 0x66:
                try body(JSONLField(kind: .bool, bytes: UnsafeRawBufferPointer(start: p + start, count: 5)))
                i &+= 5
            default:
                var j = i &+ 1
                while j < count {
                    let b = p[j]
                    if b &- 0x30 < 10 || b == 0x2E || b == 0x2B || b == 0x2D || b | 0x20 == 0x65 {
                        j &+= 1
                    } else {
                        break
                    }
                }
                try body(JSONLField(kind: .number, bytes: UnsafeRawBufferPointer(start: p + start, count: j &- start)))
                i = j
            }
            i = Scanner.skipWhitespace(p, i, count)
            if p[i] == 0x2C {
                i &+= 1
            } else {
                return
            }
        }
    }
}
