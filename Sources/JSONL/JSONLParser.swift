#if canImport(Glibc)
    internal import Glibc
#elseif canImport(Musl)
    internal import Musl
#elseif canImport(Darwin)
    internal import Darwin
#endif

/// An incremental JSONL parser: feed it chunks of any size, get one callback per line.
///
/// A value-type state machine (house style 4): the only state kept between chunks is the
/// unfinished tail of the current line (at most `maxLineLength` bytes) and a few counters. A line
/// that lies wholly inside a chunk is parsed in place, without a copy.
///
/// Every line is validated strictly (RFC 8259, well-formed UTF-8, depth limit) and the plan's slots
/// are filled in the same pass. `\n` ends a line; a `\r` before it is dropped; blank (whitespace-only)
/// lines are skipped but counted; a last line without `\n` is handled by ``finish(_:)``.
///
/// ```swift
/// let plan = try FieldPlan(paths: ["id", "__parentId", "tags"], collectUnmatched: true)
/// var parser = JSONLParser(plan: plan)
/// try parser.feed(chunk) { line in
///     let id = line[0]          // JSONLField: kind + bytes
///     line[2].forEachElement { tag in ... }
///     let extra = line.unmatched // {"k":v,...} for a jsonb column
/// }
/// try parser.finish { line in ... }
/// ```
///
/// A parser reads one stream. After it has thrown (a parse error with `.fail`, or an error thrown
/// by the handler) it throws ``JSONLError/Code/parserFailed`` on every further call.
public struct JSONLParser: Sendable {
    /// Limits and the policy for invalid lines.
    public struct Options: Sendable, Hashable {
        /// The deepest nesting of objects and arrays accepted (a line `[[1]]` has depth 2).
        public var maxDepth: Int
        /// The longest line accepted, in bytes, without its `\n`. A longer line is an error; the
        /// parser never buffers more than this.
        public var maxLineLength: Int
        /// What happens to an invalid line.
        public var invalidLines: InvalidLines

        public init(maxDepth: Int = 512, maxLineLength: Int = 64 << 20, invalidLines: InvalidLines = .fail) {
            precondition(maxDepth >= 1 && maxDepth <= 1 << 20, "maxDepth must be in 1...1_048_576")
            precondition(maxLineLength >= 1, "maxLineLength must be positive")
            self.maxDepth = maxDepth
            self.maxLineLength = maxLineLength
            self.invalidLines = invalidLines
        }
    }

    /// What happens to an invalid line.
    public enum InvalidLines: Sendable, Hashable {
        /// `feed`/`finish` throw a ``JSONLError`` (the default).
        case fail
        /// The line is handed to the handler with ``JSONLLine/error`` set, and parsing continues.
        case report
    }

    /// The compiled field plan.
    public let plan: FieldPlan
    /// The limits and policies.
    public let options: Options
    private var storage: ParserStorage

    /// Creates a parser that fills `plan`'s slots for every line.
    public init(plan: FieldPlan = .validateOnly, options: Options = .init()) {
        self.plan = plan
        self.options = options
        self.storage = ParserStorage(plan: plan, options: options)
    }

    /// The number of lines ended so far (by `\n`, or by ``finish(_:)``), blank lines included.
    public var linesRead: Int { storage.lineNumber - 1 }
    /// The number of bytes fed so far.
    public var bytesRead: Int { storage.streamOffset }

    /// Parses the lines that end in `chunk` (and the tail kept from earlier chunks), calling
    /// `handler` once per non-blank line, in order. Keeps the unfinished last line for later.
    ///
    /// - Throws: a ``JSONLError`` for an invalid line when `invalidLines` is `.fail`, or what
    ///   `handler` throws.
    public mutating func feed(
        _ chunk: UnsafeRawBufferPointer, _ handler: (borrowing JSONLLine) throws -> Void
    ) throws {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        try storage.feed(chunk, handler)
    }

    /// Parses the kept tail as the last line (a file need not end with `\n`).
    public mutating func finish(_ handler: (borrowing JSONLLine) throws -> Void) throws {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        try storage.finish(handler)
    }
}

/// The parser's buffers. Only ever mutated through a uniquely referenced `JSONLParser` (copy on
/// write), which is why it can be `@unchecked Sendable`.
final class ParserStorage: @unchecked Sendable {
    let plan: FieldPlan
    let options: Options
    typealias Options = JSONLParser.Options

    let nodes: UnsafeMutablePointer<PlanNode>
    let keys: UnsafeMutablePointer<UInt8>
    let tables: UnsafeMutablePointer<Int32>
    let slots: UnsafeMutablePointer<SlotRecord>
    let frames: UnsafeMutablePointer<Frame>
    var arena: UnsafeMutablePointer<UInt8>
    var rest: UnsafeMutablePointer<UInt8>
    var scratchCapacity: Int
    var tail: UnsafeMutablePointer<UInt8>
    var tailCapacity: Int
    var tailCount = 0

    /// The number of the current (unfinished) line, 1-based.
    var lineNumber = 1
    /// The stream offset of the current line's first byte.
    var lineStart = 0
    /// Bytes fed so far.
    var streamOffset = 0
    /// Skipping the rest of a line that was too long (already reported).
    var discarding = false
    var failed = false

    init(plan: FieldPlan, options: Options) {
        self.plan = plan
        self.options = options
        nodes = .allocate(capacity: plan.nodes.count)
        nodes.initialize(from: plan.nodes, count: plan.nodes.count)
        keys = .allocate(capacity: max(plan.keyBytes.count, 1))
        keys.initialize(from: plan.keyBytes, count: plan.keyBytes.count)
        tables = .allocate(capacity: max(plan.tables.count, 1))
        tables.initialize(from: plan.tables, count: plan.tables.count)
        slots = .allocate(capacity: max(plan.slotCount, 1))
        slots.initialize(repeating: SlotRecord(base: nil, count: 0, kind: .absent), count: max(plan.slotCount, 1))
        frames = .allocate(capacity: options.maxDepth + 1)
        scratchCapacity = min(4096, options.maxLineLength) + 2
        arena = .allocate(capacity: scratchCapacity)
        rest = .allocate(capacity: scratchCapacity)
        tailCapacity = min(4096, options.maxLineLength)
        tail = .allocate(capacity: tailCapacity)
    }

    deinit {
        nodes.deallocate()
        keys.deallocate()
        tables.deallocate()
        slots.deallocate()
        frames.deallocate()
        arena.deallocate()
        rest.deallocate()
        tail.deallocate()
    }

    func copy() -> ParserStorage {
        let other = ParserStorage(plan: plan, options: options)
        other.reserveTail(tailCount)
        other.tail.update(from: tail, count: tailCount)
        other.tailCount = tailCount
        other.lineNumber = lineNumber
        other.lineStart = lineStart
        other.streamOffset = streamOffset
        other.discarding = discarding
        other.failed = failed
        return other
    }

    func feed(_ chunk: UnsafeRawBufferPointer, _ handler: (borrowing JSONLLine) throws -> Void) throws {
        if failed { throw failure() }
        guard let raw = chunk.baseAddress, chunk.count > 0 else { return }
        let base = raw.assumingMemoryBound(to: UInt8.self)
        let n = chunk.count
        let chunkOffset = streamOffset
        streamOffset &+= n
        let maxLineLength = options.maxLineLength
        var pos = 0
        do {
            if discarding || tailCount > 0 {
                let nl = newline(base, 0, n)
                if discarding {
                    if nl == n { return }
                    discarding = false
                } else if tailCount + nl > maxLineLength {
                    try lineTooLong(handler)
                    tailCount = 0
                    if nl == n {
                        discarding = true
                        return
                    }
                } else {
                    reserveTail(tailCount + nl)
                    (tail + tailCount).update(from: base, count: nl)
                    tailCount += nl
                    if nl == n { return }
                    try line(tail, tailCount, handler)
                    tailCount = 0
                }
                pos = nl &+ 1
                lineNumber &+= 1
                lineStart = chunkOffset &+ pos
            }
            while pos < n {
                let nl = newline(base, pos, n)
                let count = nl &- pos
                if count > maxLineLength {
                    try lineTooLong(handler)
                    if nl == n {
                        discarding = true
                        return
                    }
                } else if nl == n {
                    reserveTail(count)
                    tail.update(from: base + pos, count: count)
                    tailCount = count
                    return
                } else {
                    try line(base + pos, count, handler)
                }
                pos = nl &+ 1
                lineNumber &+= 1
                lineStart = chunkOffset &+ pos
            }
        } catch {
            failed = true
            throw error
        }
    }

    func finish(_ handler: (borrowing JSONLLine) throws -> Void) throws {
        if failed { throw failure() }
        if discarding {
            discarding = false
            lineNumber &+= 1
        } else if tailCount > 0 {
            do {
                try line(tail, tailCount, handler)
            } catch {
                failed = true
                throw error
            }
            tailCount = 0
            lineNumber &+= 1
        }
        lineStart = streamOffset
    }

    private func failure() -> JSONLError {
        JSONLError(code: .parserFailed, line: lineNumber, column: 1, lineByteOffset: lineStart)
    }

    /// The index of the first `\n` in `base[from..<end]`, or `end`.
    @inline(__always)
    private func newline(_ base: UnsafePointer<UInt8>, _ from: Int, _ end: Int) -> Int {
        guard let found = memchr(base + from, 0x0A, end &- from) else { return end }
        return UnsafeRawPointer(found) - UnsafeRawPointer(base)
    }

    private func reserveTail(_ count: Int) {
        guard count > tailCapacity else { return }
        let capacity = min(max(count, tailCapacity &* 2), options.maxLineLength)
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        grown.update(from: tail, count: tailCount)
        tail.deallocate()
        tail = grown
        tailCapacity = capacity
    }

    private func reserveScratch(_ count: Int) {
        guard count + 2 > scratchCapacity else { return }
        let capacity = min(max(count, scratchCapacity &* 2), options.maxLineLength) + 2
        arena.deallocate()
        rest.deallocate()
        arena = .allocate(capacity: capacity)
        rest = .allocate(capacity: capacity)
        scratchCapacity = capacity
    }

    private func lineTooLong(_ handler: (borrowing JSONLLine) throws -> Void) throws {
        let error = JSONLError(
            code: .lineTooLong, line: lineNumber, column: options.maxLineLength + 1, lineByteOffset: lineStart)
        if options.invalidLines == .fail { throw error }
        try handler(
            JSONLLine(
                number: lineNumber, byteOffset: lineStart, bytes: UnsafeRawBufferPointer(start: nil, count: 0),
                error: error, isObject: false, slots: slots, slotCount: plan.slotCount, unmatched: nil))
    }

    /// Scans one complete line (without its `\n`) and calls the handler.
    private func line(
        _ p: UnsafePointer<UInt8>, _ fullCount: Int, _ handler: (borrowing JSONLLine) throws -> Void
    ) throws {
        var count = fullCount
        if count > 0 && p[count &- 1] == 0x0D { count &-= 1 }
        let first = Scanner.skipWhitespace(p, 0, count)
        if first == count { return }  // blank line
        reserveScratch(count)
        let slotCount = plan.slotCount
        for s in 0..<slotCount { slots[s].kind = .absent }
        let env = ScanEnvironment(
            nodes: nodes, keys: keys, tables: tables, slots: slots, frames: frames, maxDepth: options.maxDepth,
            arena: arena, rest: plan.collectUnmatched ? rest : nil)
        let bytes = UnsafeRawBufferPointer(start: p, count: count)
        let result: ScanResult
        do throws(ScanFailure) {
            result = try Scanner.scan(p, count, env)
        } catch {
            let error = JSONLError(
                code: .init(base: error.code), line: lineNumber, column: error.position + 1, lineByteOffset: lineStart)
            if options.invalidLines == .fail { throw error }
            try handler(
                JSONLLine(
                    number: lineNumber, byteOffset: lineStart, bytes: bytes, error: error, isObject: false,
                    slots: slots, slotCount: slotCount, unmatched: nil))
            return
        }
        let unmatched: UnsafeRawBufferPointer? =
            plan.collectUnmatched && result.isObject
            ? UnsafeRawBufferPointer(start: rest, count: result.restCount) : nil
        try handler(
            JSONLLine(
                number: lineNumber, byteOffset: lineStart, bytes: bytes, error: nil, isObject: result.isObject,
                slots: slots, slotCount: slotCount, unmatched: unmatched))
    }
}
