import Postgres

/// How many PostgreSQL connections shops imported at once hold, and how many the server has room for.
///
/// One shop's import holds at most `operations + 1` sessions: a control session (the shop's lock,
/// planning, the ledger) and one per worker, which also carries that worker's loads (a reconcile
/// holds two). A process running `jobs` shops at once holds at most `jobs × (operations + 1) + 1`:
/// the `+ 1` is the command's own connection (migrations, the shop list, `status`). With one shop
/// that is the engine's bound of `operations + 2`.
public struct ConnectionBudget: Sendable, Equatable {
    /// Bulk operations at once per shop (5 from API 2026-01).
    public var operations: Int
    public var jobs: Int

    public init(operations: Int, jobs: Int) {
        self.operations = max(1, operations)
        self.jobs = max(1, jobs)
    }

    /// The most sessions one shop's import holds.
    public var perShop: Int { operations + 1 }
    /// The most sessions the whole process holds.
    public var total: Int { jobs * perShop + 1 }

    /// The formula, for `--help` and messages.
    public static let formula =
        "jobs × (operations + 1) + 1 connections (each shop: a control session and one per operation; +1 for the command itself)"

    /// The default number of shops at once: at most `cap`, and no more than fit in `room` connections
    /// while leaving a quarter of them to others.
    public static func defaultJobs(operations: Int, room: Int, cap: Int = 4) -> Int {
        let usable = room - room / 4 - 1
        return max(1, min(cap, usable / (max(1, operations) + 1)))
    }

    /// Connections a new client may still open: `max_connections` less the superuser reserve (and
    /// the reserved-connections slots of PostgreSQL 16+) less the backends connected now.
    public static func room(on connection: PostgresConnection) throws -> Int {
        let row = try connection.query(
            """
            SELECT current_setting('max_connections')::int
                   - current_setting('superuser_reserved_connections')::int
                   - coalesce(current_setting('reserved_connections', true)::int, 0)
                   - (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend') AS room
            """, name: "connection room")
        return row.first?["room"].int ?? 0
    }

    /// Refuses a budget the server cannot hold, naming what to change.
    public func check(room: Int) throws {
        guard total <= room + 1 else {
            throw ShopError(
                .connectionBudget,

                "\(jobs) shops at once with \(operations) operations each need up to \(total) PostgreSQL connections (\(Self.formula)), but the server has room for \(room + 1) more now; lower --jobs or --concurrency"
            )
        }
    }
}
