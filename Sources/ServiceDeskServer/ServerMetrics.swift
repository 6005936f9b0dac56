import Foundation
import Prometheus

/// `/metrics`: the server's request counts and latency histograms (kept in a registry for the life
/// of the process) and, read from the database at every scrape, the mirror's state per shop.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    static let buckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(20),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
    ]

    static let help: [String: String] = [
        "shopbulk_http_requests_total": "HTTP requests answered, by route, method and status.",
        "shopbulk_http_request_duration_seconds": "Time to answer an HTTP request, by route.",
        "shopbulk_table_rows": "Rows (not deleted) per mirror table and shop.",
        "shopbulk_last_import_timestamp_seconds": "When the last successful import of each kind finished (Unix time).",
        "shopbulk_last_import_age_seconds": "Seconds since the last successful import of each kind finished.",
        "shopbulk_runs": "sync_runs rows (imports and their windows) by status.",
        "shopbulk_rows_loaded": "Rows loaded by all runs of the shop.",
        "shopbulk_bytes_downloaded": "Result bytes downloaded by all runs of the shop.",
        "shopbulk_run_errors": "Runs that ended with an error, by error code.",
        "shopbulk_db_connections_open": "Database connections the server holds now.",
        "shopbulk_db_connections_peak": "The most database connections the server held at once.",
    ]

    static func descriptor(_ name: String) -> MetricNameDescriptor {
        let cut = name.lastIndex(of: "_")!
        return MetricNameDescriptor(
            metricName: String(name[..<cut]), unitName: String(name[name.index(after: cut)...]), helpText: help[name] ?? "")
    }

    func record(route: String, method: String, status: Int, duration: Duration) {
        registry.makeCounter(
            descriptor: Self.descriptor("shopbulk_http_requests_total"),
            labels: [("route", route), ("method", method), ("status", String(status))]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: Self.descriptor("shopbulk_http_request_duration_seconds"), labels: [("route", route)], buckets: Self.buckets
        ).record(duration)
    }

    /// The exposition text: the request metrics, then the database's, then the pool's.
    func exposition(databaseSamples: [ServerQueries.Sample], pool: (open: Int, peak: Int)) -> String {
        let scrape = PrometheusCollectorRegistry()
        for sample in databaseSamples {
            scrape.makeGauge(descriptor: Self.descriptor(sample.name), labels: sample.labels).set(sample.value)
        }
        scrape.makeGauge(descriptor: Self.descriptor("shopbulk_db_connections_open")).set(Double(pool.open))
        scrape.makeGauge(descriptor: Self.descriptor("shopbulk_db_connections_peak")).set(Double(pool.peak))
        return registry.emitToString() + scrape.emitToString()
    }
}
