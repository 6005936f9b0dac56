import Foundation
import JSONL

/// A copy of everything a handler saw for one line, for comparisons.
struct LineSnapshot: Equatable, CustomStringConvertible {
    struct Slot: Equatable {
        var kind: JSONLField.Kind
        var bytes: [UInt8]
        var elements: [Slot]?
    }
    var number: Int
    var byteOffset: Int
    var bytes: [UInt8]
    var error: JSONLError?
    var isObject: Bool
    var slots: [Slot]
    var unmatched: [UInt8]?

    init(_ line: borrowing JSONLLine) {
        number = line.number
        byteOffset = line.byteOffset
        bytes = Array(line.bytes)
        error = line.error
        isObject = line.isObject
        slots = (0..<line.slotCount).map { LineSnapshot.slot(line[$0]) }
        unmatched = line.unmatched.map { Array($0) }
    }

    static func slot(_ field: JSONLField) -> Slot {
        var elements: [Slot]? = nil
        if field.kind == .array {
            var list: [Slot] = []
            field.forEachElement { list.append(slot($0)) }
            elements = list
        }
        return Slot(kind: field.kind, bytes: Array(field.bytes), elements: elements)
    }

    var description: String {
        "line \(number) @\(byteOffset) error=\(String(describing: error)) slots=\(slots.map { "\($0.kind):\(String(decoding: $0.bytes, as: UTF8.self))" }) rest=\(unmatched.map { String(decoding: $0, as: UTF8.self) } ?? "nil")"
    }
}

/// The outcome of feeding a whole stream: the lines seen and the error thrown, if any.
struct StreamOutcome: Equatable {
    var lines: [LineSnapshot] = []
    var thrown: JSONLError?
    var linesRead = 0
}

/// Feeds `data` to a fresh parser in chunks ending at `cuts` (sorted offsets), then finishes.
func parse(
    _ data: [UInt8], plan: FieldPlan = .validateOnly, options: JSONLParser.Options = .init(), cuts: [Int] = []
) -> StreamOutcome {
    var outcome = StreamOutcome()
    var parser = JSONLParser(plan: plan, options: options)
    var start = 0
    do {
        try data.withUnsafeBytes { all in
            for cut in cuts + [data.count] where cut >= start {
                try parser.feed(UnsafeRawBufferPointer(rebasing: all[start..<cut])) { line in
                    outcome.lines.append(LineSnapshot(line))
                }
                start = cut
            }
        }
        try parser.finish { line in outcome.lines.append(LineSnapshot(line)) }
    } catch let error as JSONLError {
        outcome.thrown = error
    } catch {
        fatalError("unexpected error \(error)")
    }
    outcome.linesRead = parser.linesRead
    return outcome
}

func parse(
    _ text: String, plan: FieldPlan = .validateOnly, options: JSONLParser.Options = .init(), cuts: [Int] = []
) -> StreamOutcome {
    parse(Array(text.utf8), plan: plan, options: options, cuts: cuts)
}

extension LineSnapshot.Slot {
    var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// SplitMix64: a small seeded generator so that failures reproduce.
struct SeededRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The JSONTestSuite cases in the shared test data beside the repository
/// (`../shared/testdata/JSONTestSuite/test_parsing`; never copied into the repository).
let testSuiteDirectory: URL = {
    var root = URL(fileURLWithPath: #filePath)
    for _ in 0..<4 { root.deleteLastPathComponent() }  // Support, JSONLTests, Tests, the package
    return root.deletingLastPathComponent().appendingPathComponent("shared/testdata/JSONTestSuite/test_parsing")
}()

/// The case files with `prefix`; a missing folder stops the test run rather than passing vacuously.
func testSuiteFiles(prefix: String) -> [String] {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: testSuiteDirectory.path) else {
        fatalError("the JSONTestSuite cases are missing at \(testSuiteDirectory.path) (tests read them from ../shared/testdata)")
    }
    return names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }.sorted()
}

func testSuiteBytes(_ name: String) -> [UInt8] {
    Array(try! Data(contentsOf: testSuiteDirectory.appendingPathComponent(name)))
}

func validateDocument(_ bytes: [UInt8], maxDepth: Int = 512) -> JSONLError? {
    do {
        try bytes.withUnsafeBytes { try JSONDocument.validate($0, maxDepth: maxDepth) }
        return nil
    } catch let error as JSONLError {
        return error
    } catch {
        fatalError("unexpected \(error)")
    }
}
