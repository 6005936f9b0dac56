/// A growable buffer of rows in `COPY … FROM STDIN` text format, filled without a connection (e.g. on
/// a parser thread) and sent later with `CopyWriter.send(_:)`.
///
/// Text goes in escaped (backslash, tab, newline, carriage return); a NUL byte is refused, because
/// PostgreSQL text cannot hold it.
public struct CopyTextBuffer: ~Copyable {
    public private(set) var base: UnsafeMutableRawPointer
    public private(set) var count: Int = 0
    public private(set) var capacity: Int
    public private(set) var rows: Int = 0
    var column = 0

    public init(capacity: Int = 1 << 20) {
        self.capacity = max(capacity, 256)
        self.base = .allocate(byteCount: self.capacity, alignment: 16)
    }

    deinit { base.deallocate() }

    /// The bytes written so far.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Forgets the content, keeping the memory (shrinking it back if one huge row grew it).
    public mutating func reset(shrinkTo limit: Int = 1 << 20) {
        count = 0
        rows = 0
        column = 0
        if capacity > limit * 2 {
            base.deallocate()
            capacity = limit
            base = .allocate(byteCount: capacity, alignment: 16)
        }
    }

    /// Drops an unfinished row (after a value in it turned out to be bad).
    public mutating func discardRow(from mark: Int) {
        count = mark
        column = 0
    }

    @inline(__always)
    mutating func ensure(_ extra: Int) {
        if count + extra > capacity { grow(count + extra) }
    }

    mutating func grow(_ needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        newBase.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inline(__always)
    mutating func byte(_ b: UInt8) {
        ensure(1)
        base.storeBytes(of: b, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    /// Starts the next field of the current row (writes the tab separator).
    @inline(__always)
    public mutating func beginField() {
        if column > 0 { byte(9) }
        column += 1
    }

    /// A whole NULL field.
    @inline(__always)
    public mutating func null() {
        beginField()
        ensure(2)
        base.storeBytes(of: 0x5C, toByteOffset: count, as: UInt8.self)
        base.storeBytes(of: 0x4E, toByteOffset: count + 1, as: UInt8.self)
        count += 2
    }

    /// A whole text field.
    @inline(__always)
    public mutating func field(_ text: UnsafeRawBufferPointer) -> Bool {
        beginField()
        return appendEscaped(text)
    }

    /// Appends bytes that need no escaping (digits, ASCII words) to the current field.
    @inline(__always)
    public mutating func appendVerbatim(_ bytes: UnsafeRawBufferPointer) {
        guard let p = bytes.baseAddress, bytes.count > 0 else { return }
        ensure(bytes.count)
        (base + count).copyMemory(from: p, byteCount: bytes.count)
        count += bytes.count
    }

    /// Appends one byte that needs no escaping.
    @inline(__always)
    public mutating func appendVerbatim(byte b: UInt8) { byte(b) }

    /// Appends text to the current field, escaping it. Returns `false` (and writes nothing more) at a
    /// NUL byte.
    @inline(__always)
    public mutating func appendEscaped(_ text: UnsafeRawBufferPointer) -> Bool {
        guard let p = text.baseAddress else { return true }
        let n = text.count
        ensure(n)
        var start = 0
        var i = 0
        while i < n {
            let b = p.load(fromByteOffset: i, as: UInt8.self)
            if b > 0x5C || (b > 13 && b != 0x5C) {
                i += 1
                continue
            }
            let escaped: UInt8
            switch b {
            case 0x5C: escaped = 0x5C
            case 9: escaped = 0x74
            case 10: escaped = 0x6E
            case 13: escaped = 0x72
            case 0: return false
            default:
                i += 1
                continue
            }
            if i > start {
                ensure(i - start)
                (base + count).copyMemory(from: p + start, byteCount: i - start)
                count += i - start
            }
            ensure(2)
            base.storeBytes(of: 0x5C, toByteOffset: count, as: UInt8.self)
            base.storeBytes(of: escaped, toByteOffset: count + 1, as: UInt8.self)
            count += 2
            i += 1
            start = i
        }
        if n > start {
            ensure(n - start)
            (base + count).copyMemory(from: p + start, byteCount: n - start)
            count += n - start
        }
        return true
    }

    /// Ends the current row.
    @inline(__always)
    public mutating func endRow() {
        byte(10)
        column = 0
        rows += 1
    }
}

extension CopyWriter {
    /// Sends rows prepared in a `CopyTextBuffer`.
    public mutating func send(_ rows: borrowing CopyTextBuffer) throws(PostgresError) {
        try flush()
        if rows.count > 0 { try put(rows.bytes) }
        self.rows += Int64(rows.rows)
    }
}
