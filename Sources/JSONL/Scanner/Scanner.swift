// The byte scanner: validates one complete line (or document) in place and fills the plan's slots.
//
// Everything here runs over `UnsafePointer<UInt8>` with local state (house style 8). Nesting is an
// explicit frame stack (no recursion), so depth is limited by `maxDepth`, never by the thread's stack.

/// What a slot holds after a line: its kind and bytes (in the line, or in the arena when unescaped).
@usableFromInline
struct SlotRecord {
    @usableFromInline var base: UnsafeRawPointer?
    @usableFromInline var count: Int
    @usableFromInline var kind: JSONLField.Kind

    @usableFromInline
    init(base: UnsafeRawPointer?, count: Int, kind: JSONLField.Kind) {
        self.base = base
        self.count = count
        self.kind = kind
    }
}

/// One open container.
struct Frame {
    /// The plan node whose children are matched against this object's keys, or -1.
    var node: Int32
    /// The slot whose raw text ends when this container closes, or -1.
    var slot: Int32
    var isArray: Bool
}

/// The buffers one scan works with; all owned by the parser's storage.
struct ScanEnvironment {
    var nodes: UnsafePointer<PlanNode>
    var keys: UnsafePointer<UInt8>
    /// The plan's child hash tables (see `PlanNode.tableStart`).
    var tables: UnsafePointer<Int32>
    var slots: UnsafeMutablePointer<SlotRecord>
    /// `maxDepth + 1` frames; frame `d` describes the container at depth `d` (1-based).
    var frames: UnsafeMutablePointer<Frame>
    var maxDepth: Int
    /// Room for unescaped strings: at least the line's length.
    var arena: UnsafeMutablePointer<UInt8>
    /// Room for the unmatched-members object (at least the line's length + 2), or nil.
    var rest: UnsafeMutablePointer<UInt8>?
}

/// The outcome of a successful scan.
struct ScanResult {
    /// The line's value is an object.
    var isObject: Bool
    /// Bytes written to `rest` (0 when not collecting or not an object).
    var restCount: Int
}

enum Scanner {
    static let quote: UInt8 = 0x22
    static let backslash: UInt8 = 0x5C

    /// Validates `p[0..<end]` as exactly one JSON value surrounded by optional whitespace, and fills
    /// the slots of `env` (which the caller has reset to absent).
    static func scan(_ p: UnsafePointer<UInt8>, _ end: Int, _ env: ScanEnvironment) throws(ScanFailure)
        -> ScanResult
    {
        let nodes = env.nodes
        let slots = env.slots
        let frames = env.frames
        let maxDepth = env.maxDepth
        let rest = env.rest
        var i = 0
        var depth = 0
        var arenaUsed = 0
        var restUsed = 0
        var restActive = false
        var restKeyStart = 0
        var restKeyEnd = 0
        var restValueStart = 0
        var isObject = false
        var topIsArray = false
        var topNode: Int32 = -1
        // The plan node of the next value: the root object first, then the matched member.
        var pending: Int32 = 0

        value: while true {
            i = skipWhitespace(p, i, end)
            guard i < end else { throw ScanFailure(code: .unexpectedEndOfLine, position: i) }
            let c = p[i]
            let node = pending
            pending = -1
            let slot: Int32 = node >= 0 ? nodes[Int(node)].slot : -1

            switch c {
            case quote:
                let (e, escaped) = try scanString(p, i &+ 1, end)
                if slot >= 0 {
                    let count = e &- i &- 2
                    if escaped {
                        let dst = env.arena + arenaUsed
                        let n = unescape(p + (i &+ 1), count, dst)
                        slots[Int(slot)] = SlotRecord(base: UnsafeRawPointer(dst), count: n, kind: .string)
                        arenaUsed &+= n
                    } else {
                        slots[Int(slot)] = SlotRecord(
                            base: UnsafeRawPointer(p + (i &+ 1)), count: count, kind: .string)
                    }
                }
                i = e

            case 0x7B:  // {
                if depth >= maxDepth { throw ScanFailure(code: .tooDeep, position: i) }
                depth &+= 1
                let child: Int32 = (node >= 0 && nodes[Int(node)].childCount > 0) ? node : -1
                frames[depth] = Frame(node: child, slot: slot, isArray: false)
                if slot >= 0 {
                    slots[Int(slot)] = SlotRecord(base: UnsafeRawPointer(p + i), count: 0, kind: .object)
                }
                if depth == 1 {
                    isObject = true
                    if let rest {
                        rest[0] = 0x7B
                        restUsed = 1
                    }
                }
                topIsArray = false
                topNode = child
                i = skipWhitespace(p, i &+ 1, end)
                guard i < end else { throw ScanFailure(code: .unexpectedEndOfLine, position: i) }
                if p[i] != 0x7D {
                    let m = try member(p, &i, end, env, topNode, arenaUsed)
                    pending = m.node
                    if depth == 1 && m.node < 0 && rest != nil {
                        restActive = true
                        restKeyStart = m.keyStart
                        restKeyEnd = m.keyEnd
                        restValueStart = i
                    }
                    continue value
                }
                i &+= 1
                close(p, i, &depth, &topIsArray, &topNode, frames, slots)

            case 0x5B:  // [
                if depth >= maxDepth { throw ScanFailure(code: .tooDeep, position: i) }
                depth &+= 1
                frames[depth] = Frame(node: -1, slot: slot, isArray: true)
                if slot >= 0 {
                    slots[Int(slot)] = SlotRecord(base: UnsafeRawPointer(p + i), count: 0, kind: .array)
                }
                topIsArray = true
                topNode = -1
                i = skipWhitespace(p, i &+ 1, end)
                guard i < end else { throw ScanFailure(code: .unexpectedEndOfLine, position: i) }
                if p[i] != 0x5D { continue value }
                i &+= 1
                close(p, i, &depth, &topIsArray, &topNode, frames, slots)

            case 0x74:  // t
                guard matches(p, i, end, 0x74, 0x72, 0x75, 0x65) else {
                    throw ScanFailure(code: .invalidLiteral, position: i)
                }
                if slot >= 0 {
                    slots[Int(slot)] = SlotRecord(base: UnsafeRawPointer(p + i), count: 4, kind: .bool)
                }
                i &+= 4

            case 0x66:  // f
                guard matches(p, i &+ 1, end, 0x61, 0x6C, 0x73, 0x65) else {
                    throw ScanFailure(code: .invalidLiteral, position: i)
                }
                if slot >= 0 {
                    slots[Int(slot)] = SlotRecord(base: UnsafeRawPointer(p + i), count: 5, kind: .bool)
                }
                i &+= 5

            case 0x6E:  // n
                guard matches(p, i, end, 0x6E, 0x75, 0x6C, 0x6C) else {
                    throw ScanFailure(code: .invalidLiteral, position: i)
                }
                if slot >= 0 {
                    slots[Int(slot)] = SlotRecord(base: UnsafeRawPointer(p + i), count: 4, kind: .null)
                }
                i &+= 4

            case 0x2D, 0x30...0x39:  // - 0-9
                let e = try scanNumber(p, i, end)
                if slot >= 0 {
                    slots[Int(slot)] = SlotRecord(base: UnsafeRawPointer(p + i), count: e &- i, kind: .number)
                }
                i = e

            default:
                throw ScanFailure(code: .unexpectedCharacter, position: i)
            }

            // A value ended at `i`: consume separators and closers until another value is due.
            while true {
                if depth == 0 {
                    i = skipWhitespace(p, i, end)
                    if i != end { throw ScanFailure(code: .trailingCharacters, position: i) }
                    if isObject, let rest {
                        rest[restUsed] = 0x7D
                        restUsed &+= 1
                    }
                    return ScanResult(isObject: isObject, restCount: restUsed)
                }
                if restActive && depth == 1 {
                    restActive = false
                    let r = rest.unsafelyUnwrapped
                    if restUsed > 1 {
                        r[restUsed] = 0x2C
                        restUsed &+= 1
                    }
                    let keyCount = restKeyEnd &- restKeyStart
                    (r + restUsed).update(from: p + restKeyStart, count: keyCount)
                    restUsed &+= keyCount
                    r[restUsed] = 0x3A
                    restUsed &+= 1
                    let valueCount = i &- restValueStart
                    (r + restUsed).update(from: p + restValueStart, count: valueCount)
                    restUsed &+= valueCount
                }
                i = skipWhitespace(p, i, end)
                guard i < end else { throw ScanFailure(code: .unexpectedEndOfLine, position: i) }
                let c = p[i]
                if c == 0x2C {  // ,
                    i &+= 1
                    if topIsArray { continue value }
                    let m = try member(p, &i, end, env, topNode, arenaUsed)
                    pending = m.node
                    if depth == 1 && m.node < 0 && rest != nil {
                        restActive = true
                        restKeyStart = m.keyStart
                        restKeyEnd = m.keyEnd
                        restValueStart = i
                    }
                    continue value
                }
                if c == (topIsArray ? 0x5D : 0x7D) {
                    i &+= 1
                    close(p, i, &depth, &topIsArray, &topNode, frames, slots)
                    continue
                }
                throw ScanFailure(code: .unexpectedCharacter, position: i)
            }
        }
    }

    /// Closes the container at `depth` whose closing bracket ends just before `i`.
    @inline(__always)
    static func close(
        _ p: UnsafePointer<UInt8>, _ i: Int, _ depth: inout Int, _ topIsArray: inout Bool,
        _ topNode: inout Int32, _ frames: UnsafeMutablePointer<Frame>,
        _ slots: UnsafeMutablePointer<SlotRecord>
    ) {
        let slot = frames[depth].slot
        if slot >= 0 {
            let start = slots[Int(slot)].base.unsafelyUnwrapped
            slots[Int(slot)].count = UnsafeRawPointer(p + i) - start
        }
        depth &-= 1
        if depth > 0 {
            let f = frames[depth]
            topIsArray = f.isArray
            topNode = f.node
        }
    }

    /// Parses `"key" ws : ws` at `i` (after skipping whitespace) and matches the key against the
    /// children of `node`. Leaves `i` at the member's value.
    @inline(__always)
    static func member(
        _ p: UnsafePointer<UInt8>, _ i: inout Int, _ end: Int, _ env: ScanEnvironment, _ node: Int32,
        _ arenaUsed: Int
    ) throws(ScanFailure) -> (node: Int32, keyStart: Int, keyEnd: Int) {
        i = skipWhitespace(p, i, end)
        guard i < end else { throw ScanFailure(code: .unexpectedEndOfLine, position: i) }
        guard p[i] == quote else { throw ScanFailure(code: .unexpectedCharacter, position: i) }
        let keyStart = i
        let (e, escaped) = try scanString(p, i &+ 1, end)
        var matched: Int32 = -1
        if node >= 0 {
            let count = e &- keyStart &- 2
            if escaped {
                let dst = env.arena + arenaUsed
                let n = unescape(p + (keyStart &+ 1), count, dst)
                matched = match(env, node, UnsafePointer(dst), n)
            } else {
                matched = match(env, node, p + (keyStart &+ 1), count)
            }
        }
        i = skipWhitespace(p, e, end)
        guard i < end else { throw ScanFailure(code: .unexpectedEndOfLine, position: i) }
        guard p[i] == 0x3A else { throw ScanFailure(code: .unexpectedCharacter, position: i) }
        i = skipWhitespace(p, i &+ 1, end)
        return (matched, keyStart, e)
    }

    /// The child of `node` named `key`, or -1.
    @inline(__always)
    static func match(_ env: ScanEnvironment, _ node: Int32, _ key: UnsafePointer<UInt8>, _ n: Int) -> Int32 {
        let parent = env.nodes[Int(node)]
        let mask = Int(parent.tableMask)
        let table = env.tables + Int(parent.tableStart)
        var probe = Int(KeyHash.hash(key, n)) & mask
        while true {
            let c = table[probe]
            if c < 0 { return -1 }
            let child = env.nodes[Int(c)]
            if Int(child.keyLength) == n && bytesEqual(env.keys + Int(child.keyStart), key, n) { return c }
            probe = (probe &+ 1) & mask
        }
    }

    @inline(__always)
    static func bytesEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        var j = 0
        while j &+ 8 <= n {
            if UnsafeRawPointer(a + j).loadUnaligned(as: UInt64.self)
                != UnsafeRawPointer(b + j).loadUnaligned(as: UInt64.self)
            {
                return false
            }
            j &+= 8
        }
        while j < n {
            if a[j] != b[j] { return false }
            j &+= 1
        }
        return true
    }

    @inline(__always)
    static func skipWhitespace(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Int {
        var i = start
        while i < end {
            let c = p[i]
            if c > 0x20 || (c != 0x20 && c != 0x0A && c != 0x0D && c != 0x09) { return i }
            i &+= 1
        }
        return i
    }

    /// Whether the four bytes at `i` are `a b c d`.
    @inline(__always)
    static func matches(
        _ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int, _ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8
    ) -> Bool {
        guard i &+ 4 <= end else { return false }
        let word = UInt32(littleEndian: UnsafeRawPointer(p + i).loadUnaligned(as: UInt32.self))
        return word == UInt32(a) | UInt32(b) << 8 | UInt32(c) << 16 | UInt32(d) << 24
    }

    /// Validates a number starting at `start`; returns the index after it.
    @inline(__always)
    static func scanNumber(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) throws(ScanFailure) -> Int {
        var i = start
        if p[i] == 0x2D {
            i &+= 1
            guard i < end else { throw ScanFailure(code: .invalidNumber, position: i) }
        }
        let first = p[i]
        if first == 0x30 {
            i &+= 1
        } else if first &- 0x31 < 9 {
            i &+= 1
            while i < end && p[i] &- 0x30 < 10 { i &+= 1 }
        } else {
            throw ScanFailure(code: .invalidNumber, position: i)
        }
        if i < end && p[i] == 0x2E {  // .
            i &+= 1
            guard i < end && p[i] &- 0x30 < 10 else { throw ScanFailure(code: .invalidNumber, position: i) }
            i &+= 1
            while i < end && p[i] &- 0x30 < 10 { i &+= 1 }
        }
        if i < end && (p[i] | 0x20) == 0x65 {  // e E
            i &+= 1
            if i < end && (p[i] == 0x2B || p[i] == 0x2D) { i &+= 1 }
            guard i < end && p[i] &- 0x30 < 10 else { throw ScanFailure(code: .invalidNumber, position: i) }
            i &+= 1
            while i < end && p[i] &- 0x30 < 10 { i &+= 1 }
        }
        return i
    }

    /// Validates a string whose content starts at `start` (after the opening quote). Returns the
    /// index after the closing quote and whether the string contains escapes.
    @inline(__always)
    static func scanString(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) throws(ScanFailure) -> (Int, Bool) {
        var i = start
        var escaped = false
        while true {
            // Eight bytes at a time until a quote, backslash, control or non-ASCII byte.
            while i &+ 8 <= end {
                let x = UInt64(littleEndian: UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
                let mask = specialBytes(x)
                if mask != 0 {
                    i &+= mask.trailingZeroBitCount &>> 3
                    break
                }
                i &+= 8
            }
            guard i < end else { throw ScanFailure(code: .unexpectedEndOfLine, position: i) }
            let c = p[i]
            if c == quote { return (i &+ 1, escaped) }
            if c == backslash {
                escaped = true
                i = try scanEscape(p, i, end)
            } else if c < 0x20 {
                throw ScanFailure(code: .controlCharacterInString, position: i)
            } else if c >= 0x80 {
                i = try scanUTF8(p, i, end)
            } else {
                i &+= 1
            }
        }
    }

    /// High bit set in each byte of `x` that is `"`, `\`, below 0x20 or at least 0x80 (exact for the
    /// lowest such byte, which is all the caller uses).
    @inline(__always)
    static func specialBytes(_ x: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let q = x ^ (ones &* 0x22)
        let b = x ^ (ones &* 0x5C)
        let t = ((q &- ones) & ~q) | ((b &- ones) & ~b) | ((x &- ones &* 0x20) & ~x) | x
        return t & (ones &* 0x80)
    }

    /// Validates the escape at `i` (a backslash); returns the index after it.
    @inline(__always)
    static func scanEscape(_ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int) throws(ScanFailure) -> Int {
        guard i &+ 1 < end else { throw ScanFailure(code: .unexpectedEndOfLine, position: i &+ 1) }
        switch p[i &+ 1] {
        case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74:
            return i &+ 2
        case 0x75:  // u
            let unit = try hex4(p, i &+ 2, end)
            if unit & 0xFC00 == 0xD800 {
                guard i &+ 7 < end, p[i &+ 6] == backslash, p[i &+ 7] == 0x75 else {
                    throw ScanFailure(code: .loneSurrogate, position: i)
                }
                let low = try hex4(p, i &+ 8, end)
                guard low & 0xFC00 == 0xDC00 else { throw ScanFailure(code: .loneSurrogate, position: i) }
                return i &+ 12
            }
            if unit & 0xFC00 == 0xDC00 { throw ScanFailure(code: .loneSurrogate, position: i) }
            return i &+ 6
        default:
            throw ScanFailure(code: .invalidEscape, position: i)
        }
    }

    /// Four hex digits at `i` as a UTF-16 code unit.
    @inline(__always)
    static func hex4(_ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int) throws(ScanFailure) -> UInt32 {
        var value: UInt32 = 0
        var k = i
        while k < i &+ 4 {
            guard k < end else { throw ScanFailure(code: .unexpectedEndOfLine, position: k) }
            let d = hexValue(p[k])
            if d > 15 { throw ScanFailure(code: .invalidUnicodeEscape, position: k) }
            value = value << 4 | d
            k &+= 1
        }
        return value
    }

    /// The value of a hex digit, or a value above 15.
    @inline(__always)
    static func hexValue(_ c: UInt8) -> UInt32 {
        let digit = c &- 0x30
        if digit < 10 { return UInt32(digit) }
        let letter = (c | 0x20) &- 0x61
        if letter < 6 { return UInt32(letter) &+ 10 }
        return 99
    }

    /// Validates the multi-byte UTF-8 sequence at `i` (Unicode Table 3-7); returns the index after it.
    @inline(__always)
    static func scanUTF8(_ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int) throws(ScanFailure) -> Int {
        let c0 = p[i]
        let fail = ScanFailure(code: .invalidUTF8, position: i)
        if c0 < 0xC2 { throw fail }
        if c0 < 0xE0 {
            guard i &+ 1 < end, p[i &+ 1] & 0xC0 == 0x80 else { throw fail }
            return i &+ 2
        }
        if c0 < 0xF0 {
            guard i &+ 2 < end else { throw fail }
            let c1 = p[i &+ 1]
            let lower: UInt8 = c0 == 0xE0 ? 0xA0 : 0x80
            let upper: UInt8 = c0 == 0xED ? 0x9F : 0xBF
            guard c1 >= lower, c1 <= upper, p[i &+ 2] & 0xC0 == 0x80 else { throw fail }
            return i &+ 3
        }
        if c0 < 0xF5 {
            guard i &+ 3 < end else { throw fail }
            let c1 = p[i &+ 1]
            let lower: UInt8 = c0 == 0xF0 ? 0x90 : 0x80
            let upper: UInt8 = c0 == 0xF4 ? 0x8F : 0xBF
            guard c1 >= lower, c1 <= upper, p[i &+ 2] & 0xC0 == 0x80, p[i &+ 3] & 0xC0 == 0x80 else {
                throw fail
            }
            return i &+ 4
        }
        throw fail
    }

    /// Unescapes the content of an already validated string into `dst`; returns the bytes written
    /// (never more than `count`).
    static func unescape(_ src: UnsafePointer<UInt8>, _ count: Int, _ dst: UnsafeMutablePointer<UInt8>) -> Int {
        var i = 0
        var o = 0
        while i < count {
            // Copy the run up to the next backslash.
            var j = i
            while j < count && src[j] != backslash { j &+= 1 }
            if j > i {
                (dst + o).update(from: src + i, count: j &- i)
                o &+= j &- i
                i = j
            }
            if i >= count { break }
            let e = src[i &+ 1]
            switch e {
            case 0x62: dst[o] = 0x08; o &+= 1; i &+= 2
            case 0x66: dst[o] = 0x0C; o &+= 1; i &+= 2
            case 0x6E: dst[o] = 0x0A; o &+= 1; i &+= 2
            case 0x72: dst[o] = 0x0D; o &+= 1; i &+= 2
            case 0x74: dst[o] = 0x09; o &+= 1; i &+= 2
            case 0x75:
                var scalar = unvalidatedHex4(src + (i &+ 2))
                if scalar & 0xFC00 == 0xD800 {
                    let low = unvalidatedHex4(src + (i &+ 8))
                    scalar = 0x10000 &+ ((scalar &- 0xD800) << 10) &+ (low &- 0xDC00)
                    i &+= 12
                } else {
                    i &+= 6
                }
                o &+= encodeUTF8(scalar, dst + o)
            default: dst[o] = e; o &+= 1; i &+= 2
            }
        }
        return o
    }

    @inline(__always)
    static func unvalidatedHex4(_ p: UnsafePointer<UInt8>) -> UInt32 {
        hexValue(p[0]) << 12 | hexValue(p[1]) << 8 | hexValue(p[2]) << 4 | hexValue(p[3])
    }

    @inline(__always)
    static func encodeUTF8(_ scalar: UInt32, _ dst: UnsafeMutablePointer<UInt8>) -> Int {
        if scalar < 0x80 {
            dst[0] = UInt8(scalar)
            return 1
        }
        if scalar < 0x800 {
            dst[0] = UInt8(0xC0 | scalar >> 6)
            dst[1] = UInt8(0x80 | scalar & 0x3F)
            return 2
        }
        if scalar < 0x10000 {
            dst[0] = UInt8(0xE0 | scalar >> 12)
            dst[1] = UInt8(0x80 | scalar >> 6 & 0x3F)
            dst[2] = UInt8(0x80 | scalar & 0x3F)
            return 3
        }
        dst[0] = UInt8(0xF0 | scalar >> 18)
        dst[1] = UInt8(0x80 | scalar >> 12 & 0x3F)
        dst[2] = UInt8(0x80 | scalar >> 6 & 0x3F)
        dst[3] = UInt8(0x80 | scalar & 0x3F)
        return 4
    }
}
