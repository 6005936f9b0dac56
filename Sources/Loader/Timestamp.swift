import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// ISO-8601 text for timestamps in the ledger and in search filters (UTC, whole seconds).
public enum Timestamp {
    public static func text(_ date: Date) -> String {
        var t = time_t(floor(date.timeIntervalSince1970))
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }

    /// Parses what PostgreSQL prints for timestamptz in the ledger queries (we ask for epoch seconds).
    public static func fromEpoch(_ text: String?) -> Date? {
        text.flatMap(Double.init).map { Date(timeIntervalSince1970: $0) }
    }

    /// Parses Shopify's ISO 8601 date-times, with or without fractional seconds.
    public static func parseISO(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }

    /// SQL that prints a timestamptz column as `text(_:)` does (UTC, whole seconds).
    public static func sql(_ column: String) -> String {
        "to_char(\(column) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
    }
}
