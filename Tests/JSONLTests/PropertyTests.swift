import JSONL
import PropertyBased
import Testing

@Suite("Properties")
struct PropertyTests {
    static let paths = [
        "id", "__parentId", "customer", "customer.id", "totalPriceSet.shopMoney.amount", "tags", "é",
        "x.x.x", "a\"b", "emoji😀.note",
    ]

    /// Random chunkings of `data`: one byte at a time, random small pieces, a few large ones.
    static func chunkings(_ data: [UInt8], _ rng: inout SeededRNG) -> [[Int]] {
        var result: [[Int]] = [Array(0..<data.count)]
        var small: [Int] = []
        var at = 0
        while at < data.count {
            at += Int.random(in: 1...17, using: &rng)
            small.append(min(at, data.count))
        }
        result.append(small)
        result.append((0..<3).map { _ in Int.random(in: 0...data.count, using: &rng) }.sorted())
        return result
    }

    @Test("chunked feeding gives exactly the results of feeding the whole buffer")
    func chunkingInvariance() async {
        await propertyCheck(count: 300, input: Gen.uint64(), Gen.int(in: 1...12)) { seed, lineCount in
            var generator = JSONGenerator(seed: seed)
            let data = joined(generator.file(lines: lineCount, uniqueKeys: false, corrupt: true))
            let plan = try! FieldPlan(paths: Self.paths, collectUnmatched: generator.chance(70))
            let maxLineLength = generator.chance(20) ? Int.random(in: 1...200, using: &generator.rng) : 64 << 20
            for policy in [JSONLParser.InvalidLines.report, .fail] {
                let options = JSONLParser.Options(
                    maxDepth: generator.chance(20) ? 3 : 512, maxLineLength: maxLineLength, invalidLines: policy)
                let whole = parse(data, plan: plan, options: options)
                for cuts in Self.chunkings(data, &generator.rng) {
                    let chunked = parse(data, plan: plan, options: options, cuts: cuts)
                    #expect(chunked == whole, "seed \(seed), cuts \(cuts)")
                }
            }
        }
    }

    @Test("slots, array elements and the unmatched object match the generated values")
    func oracle() async {
        await propertyCheck(count: 300, input: Gen.uint64(), Gen.int(in: 1...12)) { seed, lineCount in
            var generator = JSONGenerator(seed: seed)
            let lines = generator.file(lines: lineCount, uniqueKeys: true, corrupt: false)
            let plan = try! FieldPlan(paths: Self.paths, collectUnmatched: true)
            let outcome = parse(joined(lines), plan: plan)
            #expect(outcome.thrown == nil, "seed \(seed)")
            let expected = lines.enumerated().filter { $0.element.value != nil }
            #expect(outcome.lines.count == expected.count, "seed \(seed)")
            var offset = 0
            var offsets: [Int] = []
            for line in lines {
                offsets.append(offset)
                offset += line.bytes.count + line.terminator.utf8.count
            }
            for (snapshot, (index, line)) in zip(outcome.lines, expected) {
                let value = line.value!
                #expect(snapshot.number == index + 1)
                #expect(snapshot.byteOffset == offsets[index])
                #expect(snapshot.error == nil, "seed \(seed): \(String(describing: snapshot.error))")
                for (slot, path) in Self.paths.enumerated() {
                    var want = LineSnapshot.Slot(kind: .absent, bytes: [], elements: nil)
                    if case .object = value, let found = value.lookup(path.split(separator: ".")) {
                        want = found.expectedSlot
                    }
                    var got = snapshot.slots[slot]
                    // Nested arrays' own elements are not listed by the oracle.
                    got.elements = got.elements?.map {
                        var e = $0; e.elements = nil; return e
                    }
                    #expect(got == want, "seed \(seed), line \(index + 1), path \(path)")
                }
                if case .object(let members, _) = value {
                    let firsts = Set(Self.paths.map { String($0.split(separator: ".")[0]) })
                    let rest =
                        "{" + members.filter { !firsts.contains($0.key) }.map { $0.keyText + ":" + $0.value.text }.joined(separator: ",")
                        + "}"
                    #expect(snapshot.unmatched.map { String(decoding: $0, as: UTF8.self) } == rest, "seed \(seed)")
                    // The unmatched object is valid JSON.
                    #expect(throws: Never.self) { try JSONValue(parsing: rest) }
                } else {
                    #expect(snapshot.unmatched == nil)
                }
            }
        }
    }

    @Test("JSONValue round-trips generated documents")
    func valueRoundTrip() async {
        await propertyCheck(count: 300, input: Gen.uint64()) { seed in
            var generator = JSONGenerator(seed: seed)
            let value = generator.object(depth: 0, uniqueKeys: false)
            let tree = try? JSONValue(parsing: value.text)
            #expect(tree != nil)
            #expect(tree.flatMap { try? JSONValue(parsing: $0.jsonText) } == tree)
        }
    }
}
