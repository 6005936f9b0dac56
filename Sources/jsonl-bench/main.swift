// jsonl-bench: the JSONL parser's throughput and memory, against Foundation, in one run.
//
//   swift run -c release jsonl-bench [--small-mb 20] [--runs 5] [--dir DIR] [--keep]
//   jsonl-bench --measure-rss FILE     (internal: parse FILE, print peak RSS; run as a child)
//
// Generates Shopify-shaped bulk output (orders, each followed by its line items as separate lines
// with __parentId; non-ASCII names, escapes, nested money) of two sizes 10x apart, then prints the
// field-plan parse's MB/s (median of --runs), JSONSerialization's MB/s on the same lines, their
// ratio, and the peak RSS of parsing each file in a separate child process.
import Foundation
import JSONL

// MARK: - The plan the loader would use (orders and line items)

let benchPaths = [
    "id", "__parentId", "legacyResourceId", "name", "email", "phone", "createdAt", "updatedAt", "processedAt",
    "cancelledAt", "displayFinancialStatus", "displayFulfillmentStatus", "currencyCode", "tags", "note",
    "totalPriceSet.shopMoney.amount", "totalPriceSet.shopMoney.currencyCode", "subtotalPriceSet.shopMoney.amount",
    "totalTaxSet.shopMoney.amount", "customer.id", "shippingAddress", "billingAddress", "title", "quantity", "sku",
    "variant.id", "product.id", "originalUnitPriceSet.shopMoney.amount", "discountedUnitPriceSet.shopMoney.amount",
]
let benchPlan = try! FieldPlan(paths: benchPaths, collectUnmatched: true)

// MARK: - Data generation

struct Rand {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0...items.count - 1)] }
}

let firstNames = ["Ann", "José", "Zoë", "Łukasz", "Søren", "Björk", "田中", "Иван", "Amélie", "O'Brien", "Nuño", "Çağla"]
let lastNames = ["Müller", "García", "Smith", "Dvořák", "Nguyễn", "Østergaard", "山田", "Петров", "Kowalski", "Lefèvre"]
let cities = ["Köln", "München", "São Paulo", "Zürich", "Kraków", "Malmö", "東京", "Reykjavík", "Paris", "New York"]
let products = [
    "T-Shirt", "Café Crème Mug", "Hoodie \\\"Classic\\\"", "Sneaker – Größe 42", "Tee 🎁 Gift", "Socks (3 pack)", "Backpack\\/Day",
]
let notes = [
    "", "Please leave at the door\\nRing twice", "Gift wrap \\\"Happy Birthday!\\\" 🎉", "Lieferung nach 18 Uhr, bitte.",
    "Caf\\u00e9 order \\u2014 fragile", "Tab\\tseparated\\tnote",
]
let tagPool = ["vip", "wholesale", "first-order", "newsletter", "Rückgabe", "gift", "b2b", "\\\"quoted\\\""]

func address(_ r: inout Rand) -> String {
    let first = r.pick(firstNames)
    let last = r.pick(lastNames)
    return
        #"{"firstName":"\#(first)","lastName":"\#(last)","address1":"\#(r.int(1...300)) Hauptstraße","address2":null,"city":"\#(r.pick(cities))","province":"NRW","zip":"\#(r.int(10000...99999))","country":"Germany","countryCodeV2":"DE","phone":"+49 221 \#(r.int(1_000_000...9_999_999))","company":null}"#
}

func money(_ amount: String, _ currency: String) -> String {
    #"{"shopMoney":{"amount":"\#(amount)","currencyCode":"\#(currency)"},"presentmentMoney":{"amount":"\#(amount)","currencyCode":"\#(currency)"}}"#
}

/// Appends one order and its line items; returns the bytes appended.
func appendOrder(_ n: Int, _ r: inout Rand, to out: inout [UInt8]) {
    let id = 5_000_000 + n
    let currency = r.pick(["EUR", "USD", "GBP", "CHF"])
    let day = r.int(1...28)
    let date = "2025-06-\(day < 10 ? "0" : "")\(day)T\(r.int(10...23)):\(r.int(10...59)):\(r.int(10...59))Z"
    let total = "\(r.int(5...900)).\(r.int(10...99))"
    let tags = (0..<r.int(0...3)).map { _ in "\"\(r.pick(tagPool))\"" }.joined(separator: ",")
    let customer = r.int(0...9) == 0 ? "null" : #"{"id":"gid:\/\/shopify\/Customer\/\#(7000 + r.int(0...99999))"}"#
    let cancelled = r.int(0...9) == 0 ? "\"\(date)\"" : "null"
    let order = #"""
        {"__typename":"Order","id":"gid://shopify/Order/\#(id)","legacyResourceId":"\#(id)","name":"#\#(1000 + n)","email":"\#(r.pick(firstNames).lowercased())\#(n)@example.com","phone":null,"createdAt":"\#(date)","updatedAt":"\#(date)","processedAt":"\#(date)","cancelledAt":\#(cancelled),"displayFinancialStatus":"\#(r.pick(["PAID", "PENDING", "REFUNDED", "PARTIALLY_PAID"]))","displayFulfillmentStatus":"\#(r.pick(["FULFILLED", "UNFULFILLED", "PARTIALLY_FULFILLED"]))","currencyCode":"\#(currency)","tags":[\#(tags)],"note":"\#(r.pick(notes))","totalPriceSet":\#(money(total, currency)),"subtotalPriceSet":\#(money(total, currency)),"totalTaxSet":\#(money("\(r.int(0...99)).\(r.int(10...99))", currency)),"customer":\#(customer),"shippingAddress":\#(address(&r)),"billingAddress":\#(address(&r)),"test":false,"confirmed":true}
        """#
    out += order.utf8
    out.append(0x0A)
    for k in 0..<r.int(1...4) {
        let price = "\(r.int(1...300)).\(r.int(10...99))"
        let item = #"""
            {"__typename":"LineItem","id":"gid://shopify/LineItem/\#(id * 10 + k)","title":"\#(r.pick(products))","quantity":\#(r.int(1...5)),"currentQuantity":\#(r.int(0...5)),"sku":"SKU-\#(r.int(1000...9999))-\#(r.pick(["S", "M", "L", "XL"]))","vendor":"\#(r.pick(lastNames)) GmbH","requiresShipping":true,"variant":{"id":"gid://shopify/ProductVariant/\#(r.int(40000...49999))"},"product":{"id":"gid://shopify/Product/\#(r.int(3000...3999))"},"originalUnitPriceSet":\#(money(price, currency)),"discountedUnitPriceSet":\#(money(price, currency)),"__parentId":"gid://shopify/Order/\#(id)"}
            """#
        out += item.utf8
        out.append(0x0A)
    }
}

/// Writes orders to `path` until it holds at least `bytes` bytes.
func generate(path: String, bytes target: Int) -> (lines: Int, bytes: Int) {
    _ = FileManager.default.createFile(atPath: path, contents: nil)
    let handle = FileHandle(forWritingAtPath: path)!
    defer { try? handle.close() }
    var r = Rand(state: 42)
    var buffer: [UInt8] = []
    buffer.reserveCapacity(5 << 20)
    var written = 0
    var n = 0
    var lines = 0
    while written + buffer.count < target {
        appendOrder(n, &r, to: &buffer)
        n += 1
        if buffer.count > 4 << 20 {
            handle.write(Data(buffer))
            written += buffer.count
            lines += buffer.lazy.filter { $0 == 0x0A }.count
            buffer.removeAll(keepingCapacity: true)
        }
    }
    handle.write(Data(buffer))
    written += buffer.count
    lines += buffer.lazy.filter { $0 == 0x0A }.count
    return (lines, written)
}

// MARK: - Measurements

/// Streams `path` through `body` in 1 MiB chunks read with read(2).
func streamFile(_ path: String, _ body: (UnsafeRawBufferPointer) throws -> Void) rethrows -> Int {
    let fd = open(path, O_RDONLY)
    precondition(fd >= 0, "cannot open \(path)")
    defer { close(fd) }
    let size = 1 << 20
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
    defer { buffer.deallocate() }
    var total = 0
    while true {
        let n = read(fd, buffer.baseAddress, size)
        precondition(n >= 0, "read failed")
        if n == 0 { break }
        total += n
        try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
    }
    return total
}

/// What the loader does per line: look at every slot, iterate tags, take the unmatched object.
struct Checksum {
    var value = 0
    mutating func add(_ line: borrowing JSONLLine) {
        for s in 0..<line.slotCount {
            let field = line[s]
            value &+= Int(field.kind.rawValue) &+ field.bytes.count
            if field.kind == .array {
                field.forEachElement { value &+= $0.bytes.count }
            }
        }
        value &+= line.unmatched?.count ?? 0
    }
}

func parsePlan(_ path: String, plan: FieldPlan) -> (seconds: Double, bytes: Int, checksum: Int) {
    var parser = JSONLParser(plan: plan)
    var sum = Checksum()
    let start = ContinuousClock.now
    let bytes = try! streamFile(path) { chunk in try parser.feed(chunk) { sum.add($0) } }
    try! parser.finish { sum.add($0) }
    return (seconds(start.duration(to: .now)), bytes, sum.value)
}

func parseFoundation(_ path: String) -> (seconds: Double, bytes: Int, checksum: Int) {
    var tail: [UInt8] = []
    var count = 0
    let start = ContinuousClock.now
    let bytes = streamFile(path) { chunk in
        var lineStart = 0
        let p = chunk.bindMemory(to: UInt8.self)
        for i in 0..<p.count where p[i] == 0x0A {
            let data: Data
            if tail.isEmpty {
                data = Data(UnsafeRawBufferPointer(rebasing: chunk[lineStart..<i]))
            } else {
                tail += p[lineStart..<i]
                data = Data(tail)
                tail.removeAll(keepingCapacity: true)
            }
            let object = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
            count &+= object.count
            lineStart = i + 1
        }
        tail += p[lineStart...]
    }
    return (seconds(start.duration(to: .now)), bytes, count)
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func peakRSSKiB() -> Int {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? -1
    }
    return -1
}

func mb(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1e6) }
func rate(_ bytes: Int, _ seconds: Double) -> Double { Double(bytes) / seconds / 1e6 }

// MARK: - Main

let arguments = CommandLine.arguments
if arguments.count == 3 && arguments[1] == "--measure-rss" {
    let result = parsePlan(arguments[2], plan: benchPlan)
    print("rss_kib=\(peakRSSKiB()) mbps=\(String(format: "%.1f", rate(result.bytes, result.seconds))) checksum=\(result.checksum)")
    exit(0)
}

var smallMB = 20
var runs = 5
var directory: String?
var keep = false
var index = 1
while index < arguments.count {
    switch arguments[index] {
    case "--small-mb": index += 1; smallMB = Int(arguments[index])!
    case "--runs": index += 1; runs = Int(arguments[index])!
    case "--dir": index += 1; directory = arguments[index]
    case "--keep": keep = true
    default:
        FileHandle.standardError.write(Data("usage: jsonl-bench [--small-mb N] [--runs N] [--dir DIR] [--keep]\n".utf8))
        exit(2)
    }
    index += 1
}

let dir = directory ?? (NSTemporaryDirectory() + "jsonl-bench-\(getpid())")
try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
let small = dir + "/orders-small.jsonl"
let large = dir + "/orders-large.jsonl"
defer { if !keep && directory == nil { try? FileManager.default.removeItem(atPath: dir) } }

#if DEBUG
    print("warning: debug build; use swift run -c release jsonl-bench")
#endif
let smallInfo = generate(path: small, bytes: smallMB * 1_000_000)
let largeInfo = generate(path: large, bytes: smallMB * 10 * 1_000_000)
print(
    "files: small \(mb(smallInfo.bytes)), \(smallInfo.lines) lines (avg \(smallInfo.bytes / smallInfo.lines) B/line); large \(mb(largeInfo.bytes)), \(largeInfo.lines) lines"
)
print("plan: \(benchPaths.count) paths + collectUnmatched")

// Warm the page cache and the code.
_ = parsePlan(small, plan: benchPlan)
var planRates: [Double] = []
var validateRates: [Double] = []
var foundationRates: [Double] = []
for _ in 0..<runs {
    let p = parsePlan(small, plan: benchPlan)
    planRates.append(rate(p.bytes, p.seconds))
    let v = parsePlan(small, plan: .validateOnly)
    validateRates.append(rate(v.bytes, v.seconds))
}
for _ in 0..<max(1, runs / 2) {
    let f = parseFoundation(small)
    foundationRates.append(rate(f.bytes, f.seconds))
}
let planRate = median(planRates)
let foundationRate = median(foundationRates)
print(
    String(
        format: "field-plan parse:        %7.1f MB/s  (median of %d; runs %@)", planRate, runs,
        planRates.map { String(format: "%.0f", $0) }.joined(separator: " ")))
print(String(format: "validate only:           %7.1f MB/s  (median of %d)", median(validateRates), runs))
print(String(format: "JSONSerialization:       %7.1f MB/s  (median of %d)", foundationRate, foundationRates.count))
print(String(format: "ratio:                   %7.1fx     (target >= 8x; field-plan target >= 600 MB/s)", planRate / foundationRate))

func measureChild(_ file: String) -> (rss: Int, mbps: Double) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
    if !FileManager.default.isExecutableFile(atPath: process.executableURL!.path) {
        process.executableURL = Bundle.main.executableURL
    }
    process.arguments = ["--measure-rss", file]
    let pipe = Pipe()
    process.standardOutput = pipe
    try! process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    var rss = -1
    var mbps = 0.0
    for field in output.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
        let parts = field.split(separator: "=")
        if parts.first == "rss_kib" { rss = Int(parts[1]) ?? -1 }
        if parts.first == "mbps" { mbps = Double(parts[1]) ?? 0 }
    }
    return (rss, mbps)
}

let smallChild = measureChild(small)
let largeChild = measureChild(large)
print(
    String(
        format: "peak RSS (child process): small %.1f MiB (%.0f MB/s), large %.1f MiB (%.0f MB/s), difference %+.2f MiB (target <= 8 MiB)",
        Double(smallChild.rss) / 1024, smallChild.mbps, Double(largeChild.rss) / 1024, largeChild.mbps,
        Double(largeChild.rss - smallChild.rss) / 1024))
let ok = planRate >= 600 && planRate / foundationRate >= 8 && largeChild.rss - smallChild.rss <= 8 * 1024
print(ok ? "targets: met" : "targets: NOT met")
