import JSONL
import Postgres

/// A growable COPY buffer shared by reference between the parser and the COPY threads.
final class Segment: @unchecked Sendable {
    var buffer: CopyTextBuffer
    /// Which staging table the rows belong to (`LoadPlan.Section.index`, or `otherSection`).
    var section: Int
    init(section: Int, capacity: Int) {
        self.section = section
        buffer = CopyTextBuffer(capacity: capacity)
    }
}

/// Why a line could not become a row.
struct RowRejection: Error, Sendable {
    var reason: String
}

/// Turns parsed lines into COPY rows of the right staging table: the hot path of a load.
struct RowEncoder {
    let plan: LoadPlan
    /// Scratch space for array literals and re-escaped JSON strings.
    private var scratch: UnsafeMutableRawPointer
    private var scratchCapacity: Int
    static let otherSection = -1

    init(plan: LoadPlan) {
        self.plan = plan
        scratchCapacity = 64 << 10
        scratch = .allocate(byteCount: scratchCapacity, alignment: 16)
    }

    func release() { scratch.deallocate() }

    enum Outcome {
        case row(section: Int)
        case other
    }

    /// Finds the section a line belongs to: `__typename` when present, else the type in its GID.
    @inline(__always)
    func route(_ line: borrowing JSONLLine) throws(RowRejection) -> (section: Int?, id: JSONLField) {
        let id = line[plan.idSlot]
        guard id.kind == .string || id.kind == .number else {
            if !line.isObject { throw RowRejection(reason: "the line is not a JSON object") }
            if id.kind == .absent, let idless = try routeIdless(line) {
                if case .section(let index) = idless { return (index, id) }
                return (nil, id)
            }
            throw RowRejection(reason: id.kind == .absent ? "the line has no \"id\" field" : "\"id\" is not a string")
        }
        let typename = line[plan.typenameSlot]
        let typeBytes: UnsafeRawBufferPointer
        if typename.kind == .string {
            typeBytes = typename.bytes
        } else if let gid = GID(id.bytes) {
            typeBytes = gid.type
        } else {
            throw RowRejection(reason: "\"id\" is not a Shopify GID (gid://shopify/Type/123) and the line has no __typename")
        }
        for section in plan.sections where section.typeBytes.count == typeBytes.count {
            if section.typeBytes.withUnsafeBytes({ $0.elementsEqual(typeBytes) }) { return (section.index, id) }
        }
        return (nil, id)
    }

    /// Writes the row for `line` into `out` (whose section is already chosen by `route`).
    mutating func encode(_ line: borrowing JSONLLine, section index: Int, id: JSONLField, into out: inout CopyTextBuffer)
        throws(RowRejection)
    {
        let section = plan.sections[index]
        let mark = out.count
        do throws(RowRejection) {
            // id (bigint) and gid (text); none for a line without id (``IdlessChildren``)
            if id.kind == .absent {
                out.null()
                out.null()
            } else {
                out.beginField()
                guard let numeric = GID.numericID(id.bytes, kind: id.kind) else {
                    throw RowRejection(reason: "\"id\" has no numeric part")
                }
                out.appendVerbatim(numeric)
                if id.kind == .string {
                    guard out.field(id.bytes) else { throw RowRejection(reason: "\"id\" contains a NUL character") }
                } else {
                    out.null()
                }
            }
            if section.parentColumn != nil {
                let parent = line[plan.parentSlot]
                if parent.kind == .string, let parentID = GID.numericID(parent.bytes, kind: .string) {
                    out.beginField()
                    out.appendVerbatim(parentID)
                } else {
                    throw RowRejection(reason: "a \(section.type) line needs \"__parentId\" naming its \(section.parentType ?? "parent")")
                }
            }
            for target in section.targets {
                try write(line[target.slot], as: target, into: &out)
            }
            out.beginField()
            let extra = try composeExtra(line, section)
            if Self.containsEscapedNul(extra) {
                throw RowRejection(reason: "a field without a column contains \\u0000, which PostgreSQL jsonb cannot store")
            }
            guard out.appendEscaped(extra) else { throw RowRejection(reason: "unexpected NUL byte") }
            out.beginField()
            Self.appendDecimal(line.number, into: &out)
            out.endRow()
        } catch {
            out.discardRow(from: mark)
            throw error
        }
    }

    /// The `extra` object: the members no section maps, plus those only another section maps.
    private mutating func composeExtra(_ line: borrowing JSONLLine, _ section: LoadPlan.Section) throws(RowRejection)
        -> UnsafeRawBufferPointer
    {
        let unmatched = line.unmatched ?? UnsafeRawBufferPointer(start: Self.emptyObject, count: 2)
        var present = false
        for member in section.foreignMembers where line[member.slot].kind != .absent { present = true; break }
        if !present { return unmatched }
        // Re-open the unmatched object and append "key":value for each foreign member present.
        var needed = unmatched.count + 2
        for member in section.foreignMembers {
            let value = line[member.slot]
            if value.kind != .absent { needed += member.key.count + 4 + value.bytes.count * 6 + 4 }
        }
        ensureScratch(needed * 2)
        let body = Self.copyRaw(unmatched, into: scratch)  // "{…}" without its closing brace
        var n = body - 1
        var first = unmatched.count <= 2
        for member in section.foreignMembers {
            let value = line[member.slot]
            if value.kind == .absent { continue }
            if !first { scratch.storeBytes(of: 0x2C, toByteOffset: n, as: UInt8.self); n += 1 }
            first = false
            scratch.storeBytes(of: 0x22, toByteOffset: n, as: UInt8.self)
            n += 1
            for b in member.key { scratch.storeBytes(of: b, toByteOffset: n, as: UInt8.self); n += 1 }
            scratch.storeBytes(of: 0x22, toByteOffset: n, as: UInt8.self)
            scratch.storeBytes(of: 0x3A, toByteOffset: n + 1, as: UInt8.self)
            n += 2
            if value.kind == .string {
                n += Self.writeJSONString(value.bytes, into: scratch + n)
            } else {
                n += Self.copyRaw(value.bytes, into: scratch + n)
            }
        }
        scratch.storeBytes(of: 0x7D, toByteOffset: n, as: UInt8.self)
        return UnsafeRawBufferPointer(start: scratch, count: n + 1)
    }

    nonisolated(unsafe) static let emptyObject: UnsafeRawPointer = {
        let p = UnsafeMutableRawPointer.allocate(byteCount: 2, alignment: 1)
        p.storeBytes(of: 0x7B, as: UInt8.self)
        p.storeBytes(of: 0x7D, toByteOffset: 1, as: UInt8.self)
        return UnsafeRawPointer(p)
    }()

    @inline(__always)
    static func copyRaw(_ bytes: UnsafeRawBufferPointer, into target: UnsafeMutableRawPointer) -> Int {
        if let base = bytes.baseAddress, bytes.count > 0 { target.copyMemory(from: base, byteCount: bytes.count) }
        return bytes.count
    }

    /// Writes a line of a type no section maps: gid, type, parent gid, the raw line as jsonb.
    func encodeOther(_ line: borrowing JSONLLine, id: JSONLField, into out: inout CopyTextBuffer) throws(RowRejection) {
        let mark = out.count
        if id.kind == .absent {
            out.null()  // a line without id: keyed by its parent and position when merged (``IdlessChildren``)
        } else {
            guard id.kind == .string, out.field(id.bytes) else {
                out.discardRow(from: mark)
                throw RowRejection(reason: "\"id\" is not a string GID")
            }
        }
        let typename = line[plan.typenameSlot]
        if typename.kind == .string {
            _ = out.field(typename.bytes)
        } else if let gid = GID(id.bytes) {
            _ = out.field(gid.type)
        } else {
            out.null()
        }
        let parent = line[plan.parentSlot]
        if parent.kind == .string {
            guard out.field(parent.bytes) else {
                out.discardRow(from: mark)
                throw RowRejection(reason: "\"__parentId\" contains a NUL character")
            }
        } else {
            out.null()
        }
        if Self.containsEscapedNul(line.bytes) {
            out.discardRow(from: mark)
            throw RowRejection(reason: "the line contains \\u0000, which PostgreSQL jsonb cannot store")
        }
        guard out.field(line.bytes) else {
            out.discardRow(from: mark)
            throw RowRejection(reason: "unexpected NUL byte")
        }
        out.beginField()
        Self.appendDecimal(line.number, into: &out)
        out.endRow()
    }

    @inline(__always)
    private mutating func write(_ value: JSONLField, as target: LoadPlan.Target, into out: inout CopyTextBuffer) throws(RowRejection) {
        if value.kind == .absent || value.kind == .null {
            out.null()
            return
        }
        out.beginField()
        switch target.kind {
        case .text:
            guard out.appendEscaped(value.bytes) else {
                throw reject(target, "contains a NUL character, which PostgreSQL text cannot store")
            }
        case .bigint:
            guard let digits = GID.numericID(value.bytes, kind: value.kind), digits.count <= 19 else {
                throw reject(target, "is not an id or whole number")
            }
            out.appendVerbatim(digits)
        case .integer:
            guard value.kind == .number || value.kind == .string, Self.isInteger(value.bytes, maxDigits: 9) else {
                throw reject(target, "is not a whole number in integer range")
            }
            out.appendVerbatim(value.bytes)
        case .numeric:
            guard value.kind == .number || value.kind == .string, Self.isDecimal(value.bytes) else {
                throw reject(target, "is not a decimal number")
            }
            out.appendVerbatim(value.bytes)
        case .boolean:
            if value.kind == .bool {
                out.appendVerbatim(byte: value.bytes.count == 4 ? 0x74 : 0x66)
            } else if value.kind == .string, value.bytes.elementsEqual("true".utf8) || value.bytes.elementsEqual("false".utf8) {
                out.appendVerbatim(byte: value.bytes.count == 4 ? 0x74 : 0x66)
            } else {
                throw reject(target, "is not true or false")
            }
        case .timestamp:
            guard value.kind == .string, Self.isTimestamp(value.bytes) else {
                throw reject(target, "is not an ISO 8601 date-time")
            }
            out.appendVerbatim(value.bytes)
        case .json:
            if value.kind == .string {
                let n = writeJSONString(value.bytes)
                guard out.appendEscaped(UnsafeRawBufferPointer(start: scratch, count: n)) else {
                    throw reject(target, "contains a NUL character")
                }
                if Self.containsEscapedNul(UnsafeRawBufferPointer(start: scratch, count: n)) {
                    throw reject(target, "contains \\u0000, which PostgreSQL jsonb cannot store")
                }
            } else {
                if Self.containsEscapedNul(value.bytes) { throw reject(target, "contains \\u0000, which PostgreSQL jsonb cannot store") }
                guard out.appendEscaped(value.bytes) else { throw reject(target, "contains a NUL character") }
            }
        case .textArray:
            guard value.kind == .array else { throw reject(target, "is not a list") }
            let n = try writeArrayLiteral(value, target)
            guard out.appendEscaped(UnsafeRawBufferPointer(start: scratch, count: n)) else {
                throw reject(target, "contains a NUL character")
            }
        }
    }

    private func reject(_ target: LoadPlan.Target, _ why: String) -> RowRejection {
        RowRejection(reason: "field \(target.path) (column \(target.column), \(target.sqlType)) \(why)")
    }

    // MARK: - Scratch writers

    private mutating func ensureScratch(_ n: Int) {
        guard n > scratchCapacity else { return }
        var capacity = scratchCapacity
        while capacity < n { capacity *= 2 }
        scratch.deallocate()
        scratch = .allocate(byteCount: capacity, alignment: 16)
        scratchCapacity = capacity
    }

    /// `{"a","b\"c",NULL}`: a PostgreSQL array literal, every element quoted.
    private mutating func writeArrayLiteral(_ value: JSONLField, _ target: LoadPlan.Target) throws(RowRejection) -> Int {
        ensureScratch(value.bytes.count * 2 + 8)
        var n = 0
        let s = scratch
        s.storeBytes(of: 0x7B, toByteOffset: 0, as: UInt8.self)
        n = 1
        var first = true
        var failure: RowRejection?
        value.forEachElement { element in
            if failure != nil { return }
            if !first {
                s.storeBytes(of: 0x2C, toByteOffset: n, as: UInt8.self)
                n += 1
            }
            first = false
            if element.kind == .null {
                for b in "NULL".utf8 {
                    s.storeBytes(of: b, toByteOffset: n, as: UInt8.self)
                    n += 1
                }
                return
            }
            s.storeBytes(of: 0x22, toByteOffset: n, as: UInt8.self)
            n += 1
            for b in element.bytes {
                if b == 0 { failure = reject(target, "contains a NUL character"); return }
                if b == 0x22 || b == 0x5C {
                    s.storeBytes(of: 0x5C, toByteOffset: n, as: UInt8.self)
                    n += 1
                }
                s.storeBytes(of: b, toByteOffset: n, as: UInt8.self)
                n += 1
            }
            s.storeBytes(of: 0x22, toByteOffset: n, as: UInt8.self)
            n += 1
        }
        if let failure { throw failure }
        s.storeBytes(of: 0x7D, toByteOffset: n, as: UInt8.self)
        return n + 1
    }

    /// A JSON string literal for unescaped UTF-8 text, in the scratch buffer.
    private mutating func writeJSONString(_ text: UnsafeRawBufferPointer) -> Int {
        ensureScratch(text.count * 6 + 2)
        return Self.writeJSONString(text, into: scratch)
    }

    /// Writes `"…"` with JSON escapes at `s` (room for 6 bytes per input byte + 2); returns its length.
    static func writeJSONString(_ text: UnsafeRawBufferPointer, into s: UnsafeMutableRawPointer) -> Int {
        var n = 0
        s.storeBytes(of: 0x22, toByteOffset: n, as: UInt8.self)
        n += 1
        let hex: StaticString = "0123456789abcdef"
        for b in text {
            switch b {
            case 0x22, 0x5C:
                s.storeBytes(of: 0x5C, toByteOffset: n, as: UInt8.self)
                s.storeBytes(of: b, toByteOffset: n + 1, as: UInt8.self)
                n += 2
            case 0..<0x20:
                let h = hex.utf8Start
                s.storeBytes(of: 0x5C, toByteOffset: n, as: UInt8.self)
                s.storeBytes(of: 0x75, toByteOffset: n + 1, as: UInt8.self)
                s.storeBytes(of: 0x30, toByteOffset: n + 2, as: UInt8.self)
                s.storeBytes(of: 0x30, toByteOffset: n + 3, as: UInt8.self)
                s.storeBytes(of: h[Int(b >> 4)], toByteOffset: n + 4, as: UInt8.self)
                s.storeBytes(of: h[Int(b & 15)], toByteOffset: n + 5, as: UInt8.self)
                n += 6
            default:
                s.storeBytes(of: b, toByteOffset: n, as: UInt8.self)
                n += 1
            }
        }
        s.storeBytes(of: 0x22, toByteOffset: n, as: UInt8.self)
        return n + 1
    }

    // MARK: - Validators (no allocation)

    static func appendDecimal(_ value: Int, into out: inout CopyTextBuffer) {
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var v = value
        var n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[19 - n] = UInt8(48 + v % 10)
                v /= 10
                n += 1
            } while v > 0
            out.appendVerbatim(UnsafeRawBufferPointer(rebasing: d[(20 - n)...]))
        }
    }

    static func isInteger(_ b: UnsafeRawBufferPointer, maxDigits: Int) -> Bool {
        var i = 0
        if i < b.count && b[i] == 0x2D { i += 1 }
        let digits = b.count - i
        guard digits > 0 && digits <= maxDigits else { return false }
        while i < b.count {
            guard b[i] >= 0x30 && b[i] <= 0x39 else { return false }
            i += 1
        }
        return true
    }

    /// JSON number grammar (what Shopify's Decimal strings and numbers use).
    static func isDecimal(_ b: UnsafeRawBufferPointer) -> Bool {
        let n = b.count
        var i = 0
        if i < n && b[i] == 0x2D { i += 1 }
        let intStart = i
        while i < n && b[i] >= 0x30 && b[i] <= 0x39 { i += 1 }
        guard i > intStart else { return false }
        if i < n && b[i] == 0x2E {
            i += 1
            let fracStart = i
            while i < n && b[i] >= 0x30 && b[i] <= 0x39 { i += 1 }
            guard i > fracStart else { return false }
        }
        if i < n && (b[i] == 0x65 || b[i] == 0x45) {
            i += 1
            if i < n && (b[i] == 0x2B || b[i] == 0x2D) { i += 1 }
            let expStart = i
            while i < n && b[i] >= 0x30 && b[i] <= 0x39 { i += 1 }
            guard i > expStart else { return false }
        }
        return i == n
    }

    /// `YYYY-MM-DD` followed by time characters only (digits, T, :, ., +, -, Z, space).
    static func isTimestamp(_ b: UnsafeRawBufferPointer) -> Bool {
        let n = b.count
        guard n >= 10, n <= 40 else { return false }
        for i in 0..<10 {
            let c = b[i]
            if i == 4 || i == 7 {
                guard c == 0x2D else { return false }
            } else {
                guard c >= 0x30 && c <= 0x39 else { return false }
            }
        }
        var i = 10
        while i < n {
            let c = b[i]
            guard (c >= 0x30 && c <= 0x39) || c == 0x54 || c == 0x3A || c == 0x2E || c == 0x2B || c == 0x2D || c == 0x5A || c == 0x20 else {
                return false
            }
            i += 1
        }
        return true
    }

    /// Whether JSON text contains the escape `\u0000` (jsonb refuses it).
    static func containsEscapedNul(_ b: UnsafeRawBufferPointer) -> Bool {
        let n = b.count
        guard n >= 6, let p = b.baseAddress else { return false }
        var i = 0
        while i + 5 < n {
            guard let hit = memchr(p + i, 0x5C, n - i - 5) else { return false }
            let j = p.distance(to: UnsafeRawPointer(hit))
            if b[j + 1] == 0x5C {
                i = j + 2  // an escaped backslash
                continue
            }
            if b[j + 1] == 0x75 && b[j + 2] == 0x30 && b[j + 3] == 0x30 && b[j + 4] == 0x30 && b[j + 5] == 0x30 { return true }
            i = j + 2
        }
        return false
    }
}

/// A Shopify global id, `gid://shopify/Type/123`, read in place.
struct GID {
    var type: UnsafeRawBufferPointer
    var number: UnsafeRawBufferPointer

    static let prefix: [UInt8] = Array("gid://".utf8)

    init?(_ b: UnsafeRawBufferPointer) {
        let n = b.count
        guard n > 8, b[0] == 0x67, b[1] == 0x69, b[2] == 0x64, b[3] == 0x3A, b[4] == 0x2F, b[5] == 0x2F else { return nil }
        // gid://<namespace>/<Type>/<id>[?query]
        var end = n
        var q = 6
        while q < n {
            if b[q] == 0x3F { end = q; break }
            q += 1
        }
        var lastSlash = -1
        var typeSlash = -1
        var i = 6
        while i < end {
            if b[i] == 0x2F {
                typeSlash = lastSlash
                lastSlash = i
            }
            i += 1
        }
        guard lastSlash > 6, typeSlash >= 6, lastSlash + 1 < end else { return nil }
        type = UnsafeRawBufferPointer(rebasing: b[(typeSlash + 1)..<lastSlash])
        number = UnsafeRawBufferPointer(rebasing: b[(lastSlash + 1)..<end])
    }

    /// The digits of an id given as a GID string, a digit string or a JSON number; nil otherwise.
    @inline(__always)
    static func numericID(_ b: UnsafeRawBufferPointer, kind: JSONLField.Kind) -> UnsafeRawBufferPointer? {
        let digits: UnsafeRawBufferPointer
        if kind == .string, b.count > 6, b[0] == 0x67 {
            guard let gid = GID(b) else { return nil }
            digits = gid.number
        } else if kind == .string || kind == .number {
            digits = b
        } else {
            return nil
        }
        guard RowEncoder.isInteger(digits, maxDigits: 19) else { return nil }
        return digits
    }
}

#if canImport(Glibc)
    import Glibc
#endif
