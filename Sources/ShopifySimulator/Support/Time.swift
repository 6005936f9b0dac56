import Foundation

/// Timestamps as whole seconds since 1970 (Shopify's `DateTime` values have second precision).
enum ISOTime {
    /// `2025-06-03T10:15:00Z`.
    static func format(_ t: Int64) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(20)
        append(t, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func append(_ t: Int64, to out: inout [UInt8]) {
        let days = t >= 0 ? t / 86400 : (t - 86399) / 86400
        let secs = Int(t - days * 86400)
        let (y, m, d) = civil(fromDays: days)
        func two(_ v: Int) { out.append(UInt8(48 + v / 10)); out.append(UInt8(48 + v % 10)) }
        let yy = Int(y)
        out.append(UInt8(48 + yy / 1000 % 10)); out.append(UInt8(48 + yy / 100 % 10)); two(yy % 100)
        out.append(UInt8(ascii: "-")); two(m); out.append(UInt8(ascii: "-")); two(d)
        out.append(UInt8(ascii: "T")); two(secs / 3600); out.append(UInt8(ascii: ":")); two(secs / 60 % 60)
        out.append(UInt8(ascii: ":")); two(secs % 60); out.append(UInt8(ascii: "Z"))
    }

    /// Howard Hinnant's days-from-civil / civil-from-days.
    static func civil(fromDays z0: Int64) -> (Int64, Int, Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = Int(doy - (153 * mp + 2) / 5 + 1)
        let m = Int(mp < 10 ? mp + 3 : mp - 9)
        return (m <= 2 ? y + 1 : y, m, d)
    }

    static func days(fromCivil y0: Int64, _ m: Int, _ d: Int) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64(m > 2 ? m - 3 : m + 9)
        let doy = (153 * mp + 2) / 5 + Int64(d) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func make(_ y: Int, _ m: Int, _ d: Int, _ h: Int = 0, _ mi: Int = 0, _ s: Int = 0) -> Int64 {
        days(fromCivil: Int64(y), m, d) * 86400 + Int64(h * 3600 + mi * 60 + s)
    }

    /// Parses `2025-06-01`, `2025-06-01T10:00:00Z`, `2025-06-01T10:00:00.123+02:00`, `2025-06-01 10:00:00`.
    /// Returns the instant and whether a time part was present.
    static func parse(_ text: String) -> (Int64, hasTime: Bool)? {
        let b = Array(text.utf8)
        func num(_ from: Int, _ len: Int) -> Int? {
            guard from + len <= b.count else { return nil }
            var v = 0
            for i in from..<(from + len) {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        guard let y = num(0, 4), b.count >= 10, b[4] == UInt8(ascii: "-"), let m = num(5, 2), b[7] == UInt8(ascii: "-"),
            let d = num(8, 2), (1...12).contains(m), (1...31).contains(d)
        else { return nil }
        var t = make(y, m, d)
        if b.count == 10 { return (t, false) }
        guard b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: " "), let h = num(11, 2), b.count >= 16,
            b[13] == UInt8(ascii: ":"), let mi = num(14, 2)
        else { return nil }
        var i = 16
        var s = 0
        if i < b.count, b[i] == UInt8(ascii: ":") {
            guard let ss = num(17, 2) else { return nil }
            s = ss; i = 19
        }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 }
        }
        t += Int64(h * 3600 + mi * 60 + s)
        if i == b.count { return (t, true) }
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") { return i + 1 == b.count ? (t, true) : nil }
        if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            let sign: Int64 = b[i] == UInt8(ascii: "+") ? 1 : -1
            guard let oh = num(i + 1, 2) else { return nil }
            var j = i + 3
            if j < b.count, b[j] == UInt8(ascii: ":") { j += 1 }
            guard let om = num(j, 2), j + 2 == b.count else { return nil }
            return (t - sign * Int64(oh * 3600 + om * 60), true)
        }
        return nil
    }
}

/// The simulator's clock: wall time plus an offset that tests can advance (token and URL expiry
/// without sleeping).
final class SimClock: @unchecked Sendable {
    private let lock = NSLock()
    private var offset: Double = 0

    func now() -> Double { lock.lock(); defer { lock.unlock() }; return Date().timeIntervalSince1970 + offset }
    func nowSeconds() -> Int64 { Int64(now().rounded(.down)) }
    func advance(by seconds: Double) { lock.lock(); offset += seconds; lock.unlock() }
}
