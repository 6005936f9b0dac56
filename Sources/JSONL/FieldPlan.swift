/// A set of JSON paths compiled once into a lookup table that ``JSONLParser`` fills per line.
///
/// Slot `i` is `paths[i]`. A path is a dot-separated list of object member names, e.g.
/// `"totalPriceSet.shopMoney.amount"`; paths never step into arrays. A path may be a prefix of
/// another (`"customer"` and `"customer.id"`): the first slot then receives the raw object text and
/// the second the member's value.
///
/// With `collectUnmatched: true` the parser also hands out, per object line, the top-level members
/// that no path *covers* as one raw JSON object `{"k":<raw value>,...}` (keys and values copied
/// exactly as written, in line order, duplicates kept). A top-level member is covered iff some path
/// starts with its name: `totalPriceSet` is covered by `totalPriceSet.shopMoney.amount`, even if it
/// has other members (select only what you need in the bulk query, or plan the parent itself).
public struct FieldPlan: Sendable, Hashable {
    /// The paths, in slot order.
    public let paths: [String]
    /// Whether uncovered top-level members are collected into ``JSONLLine/unmatched``.
    public let collectUnmatched: Bool

    /// The compiled trie, breadth-first: node 0 is the root object; children of a node are contiguous.
    let nodes: [PlanNode]
    /// Member names of all nodes, concatenated (UTF-8).
    let keyBytes: [UInt8]
    /// Open-addressing hash tables of child node indices (-1 = empty), one per node with children.
    let tables: [Int32]

    /// The number of slots (= `paths.count`).
    public var slotCount: Int { paths.count }

    /// A plan with no paths: the parser then only validates.
    public static let validateOnly = try! FieldPlan(paths: [], collectUnmatched: false)

    /// Compiles `paths`.
    ///
    /// - Throws: ``FieldPlanError`` for an empty path, an empty member name (`"a..b"`, `".a"`) or a
    ///   duplicate path.
    public init(paths: [String], collectUnmatched: Bool = false) throws(FieldPlanError) {
        // Build a trie with dictionary children first, then flatten it breadth-first.
        final class TrieNode {
            var key: [UInt8]
            var slot: Int32 = -1
            var children: [TrieNode] = []
            init(key: [UInt8]) { self.key = key }
        }
        let root = TrieNode(key: [])
        for (index, path) in paths.enumerated() {
            if path.isEmpty { throw FieldPlanError(code: .emptyPath, path: path) }
            let components = path.split(separator: ".", omittingEmptySubsequences: false)
            var node = root
            for component in components {
                if component.isEmpty { throw FieldPlanError(code: .emptyComponent, path: path) }
                let key = Array(component.utf8)
                if let child = node.children.first(where: { $0.key == key }) {
                    node = child
                } else {
                    let child = TrieNode(key: key)
                    node.children.append(child)
                    node = child
                }
            }
            if node.slot >= 0 { throw FieldPlanError(code: .duplicatePath, path: path) }
            node.slot = Int32(index)
        }
        var nodes: [PlanNode] = []
        var keyBytes: [UInt8] = []
        var queue: [TrieNode] = [root]
        nodes.append(PlanNode(keyStart: 0, keyLength: 0, slot: -1, childStart: 0, childCount: 0, tableStart: 0, tableMask: -1))
        var head = 0
        while head < queue.count {
            let trie = queue[head]
            nodes[head].childStart = Int32(nodes.count)
            nodes[head].childCount = Int32(trie.children.count)
            for child in trie.children {
                nodes.append(
                    PlanNode(
                        keyStart: Int32(keyBytes.count), keyLength: Int32(child.key.count),
                        slot: child.slot, childStart: 0, childCount: 0, tableStart: 0, tableMask: -1))
                keyBytes += child.key
                queue.append(child)
            }
            head += 1
        }
        // A hash table per node with children, at most 25% full so that a miss is usually one probe.
        var tables: [Int32] = []
        for n in nodes.indices where nodes[n].childCount > 0 {
            var size = 8
            while size < Int(nodes[n].childCount) * 4 { size *= 2 }
            let start = tables.count
            tables += repeatElement(-1, count: size)
            for c in Int(nodes[n].childStart)..<Int(nodes[n].childStart + nodes[n].childCount) {
                let hash = keyBytes.withUnsafeBufferPointer { bytes in
                    KeyHash.hash(bytes.baseAddress! + Int(nodes[c].keyStart), Int(nodes[c].keyLength))
                }
                var probe = Int(hash) & (size - 1)
                while tables[start + probe] >= 0 { probe = (probe + 1) & (size - 1) }
                tables[start + probe] = Int32(c)
            }
            nodes[n].tableStart = Int32(start)
            nodes[n].tableMask = Int32(size - 1)
        }
        self.paths = paths
        self.collectUnmatched = collectUnmatched
        self.nodes = nodes
        self.keyBytes = keyBytes
        self.tables = tables
    }

    /// The slot of `path`, if planned.
    public func slot(of path: String) -> Int? {
        paths.firstIndex(of: path)
    }
}

/// One node of a compiled ``FieldPlan``: a member name, the slot it fills (or -1), its children.
struct PlanNode: Sendable, Hashable {
    var keyStart: Int32
    var keyLength: Int32
    var slot: Int32
    var childStart: Int32
    var childCount: Int32
    /// Where this node's child hash table starts in `FieldPlan.tables`, and its size - 1.
    var tableStart: Int32
    var tableMask: Int32
}

/// The hash of a member name used by the plan's child tables: cheap (length and three bytes) and
/// good enough for the few dozen names of a plan.
enum KeyHash {
    @inline(__always)
    static func hash(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt32 {
        if n == 0 { return 0 }
        var h = UInt32(truncatingIfNeeded: n) &* 0x9E37_79B1
        h ^= UInt32(p[0]) &* 0x85EB_CA77
        h ^= UInt32(p[n &- 1]) &* 0xC2B2_AE3D
        h ^= UInt32(p[n &>> 1]) &* 0x27D4_EB2F
        return h ^ (h &>> 15)
    }
}

/// Why a ``FieldPlan`` could not be compiled.
public struct FieldPlanError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong with the path (extensible).
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Base: Sendable, Hashable { case emptyPath, emptyComponent, duplicatePath }
        let base: Base
        /// The path is the empty string.
        public static let emptyPath = Code(base: .emptyPath)
        /// A member name in the path is empty (`"a..b"`, `".a"`, `"a."`).
        public static let emptyComponent = Code(base: .emptyComponent)
        /// The same path appears twice.
        public static let duplicatePath = Code(base: .duplicatePath)

        public var description: String {
            switch base {
            case .emptyPath: "empty path"
            case .emptyComponent: "empty member name in path"
            case .duplicatePath: "duplicate path"
            }
        }
    }

    /// What was wrong.
    public var code: Code
    /// The offending path.
    public var path: String

    public init(code: Code, path: String) {
        self.code = code
        self.path = path
    }

    public var description: String { "invalid field plan path \"\(path)\": \(code)" }
}
