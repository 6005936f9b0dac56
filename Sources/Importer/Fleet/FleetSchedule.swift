import Foundation

/// The pure rules of the worker fleet: schedule durations as people write them, the back-off of a
/// shop that keeps failing, and which work a claimed shop gets.
public enum FleetSchedule {
    /// Parses `15m`, `1d`, `90s`, `2h`, `1h30m` (units s, m, h, d, w) into seconds; `off` is nil.
    public static func parseDuration(_ text: String) throws(ShopError) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        if trimmed == "off" || trimmed == "none" { return nil }
        var total = 0.0
        var number = ""
        var parts = 0
        for c in trimmed {
            if c.isASCII && (c.isNumber || c == ".") {
                number.append(c)
                continue
            }
            let unit: Double
            switch c {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86400
            case "w": unit = 604_800
            default: throw bad(text)
            }
            guard let value = Double(number) else { throw bad(text) }
            total += value * unit
            number = ""
            parts += 1
        }
        guard number.isEmpty, parts > 0, total >= 1, total <= 366 * 86400 else { throw bad(text) }
        return total
    }

    private static func bad(_ text: String) -> ShopError {
        ShopError(
            .invalidArgument,

            "'\(text.prefix(40))' is not a schedule interval: give a number with a unit (s, m, h, d, w) such as 15m, 1d or 1h30m (at least 1s, at most a year), or off"
        )
    }

    /// `15m`, `1d`, `1h30m`: the shortest spelling of an interval.
    public static func format(seconds: Double) -> String {
        var rest = Int64(seconds.rounded())
        if rest <= 0 { return "0s" }
        var out = ""
        for (unit, size) in [("d", Int64(86400)), ("h", 3600), ("m", 60), ("s", 1)] where rest >= size {
            out += "\(rest / size)\(unit)"
            rest %= size
        }
        return out
    }

    /// How long a shop waits after `failures` failures in a row: `base` doubling each time, at most `cap`.
    public static func backoff(failures: Int, base: Double, cap: Double) -> Double {
        guard failures > 0 else { return 0 }
        return min(cap, base * pow(2, Double(min(failures - 1, 30))))
    }

    /// The work a claimed shop gets: the full import until it has completed (it resumes an
    /// interrupted one), then a reconcile when one is due, else a delta.
    public static func mode(fullImportDone: Bool, reconcileDue: Bool) -> ImportMode {
        if !fullImportDone { return .full }
        return reconcileDue ? .reconcile : .delta
    }
}
