import Foundation

/// Splits a stretch of a shop's history into bulk-operation windows: a pure value, no I/O.
public enum WindowPlanner {
    /// Windows of `days` each from `start` to `end` (the last one shorter), oldest first.
    public static func split(field: String, from start: Date, to end: Date, days: Double) -> [QueryWindow] {
        guard end > start else { return [QueryWindow(field: field, start: start, end: end)] }
        let step = max(days, 1.0 / 24) * 86_400
        var windows: [QueryWindow] = []
        var cursor = start
        while cursor < end {
            let next = min(end, cursor.addingTimeInterval(step))
            windows.append(QueryWindow(field: field, start: cursor, end: next))
            cursor = next
        }
        return windows
    }

    /// The two halves of a window that timed out, or nil when it is already shorter than `minimum`
    /// (then shrinking further will not help: the query itself must get smaller).
    public static func halve(_ window: QueryWindow, minimum: TimeInterval = 600) -> (QueryWindow, QueryWindow)? {
        guard let start = window.start, let end = window.end, end.timeIntervalSince(start) >= 2 * minimum else { return nil }
        // Whole seconds keep the search filter's timestamps exact.
        let middle = Date(timeIntervalSince1970: floor((start.timeIntervalSince1970 + end.timeIntervalSince1970) / 2))
        return (QueryWindow(field: window.field, start: start, end: middle), QueryWindow(field: window.field, start: middle, end: end))
    }
}

/// ISO-8601 text for timestamps in the ledger and in search filters (UTC, whole seconds).
enum Timestamp {
    static func text(_ date: Date) -> String {
        var t = time_t(floor(date.timeIntervalSince1970))
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }

    /// Parses what PostgreSQL prints for timestamptz in the ledger queries (we ask for epoch seconds).
    static func fromEpoch(_ text: String?) -> Date? {
        text.flatMap(Double.init).map { Date(timeIntervalSince1970: $0) }
    }

    /// Parses Shopify's ISO 8601 date-times, with or without fractional seconds.
    static func parseISO(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}
