import BulkQueries
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
