import Foundation
import Loader
import Postgres

/// Reads and writes `shop_schedules` and `fleet_claims`: the only place with their SQL.
public struct FleetStore {
    let connection: PostgresConnection
    public init(connection: PostgresConnection) { self.connection = connection }

    /// The channel workers `LISTEN` on: a schedule changed or a claim ended.
    public static let channel = "shopbulk_fleet"

    /// When a shop is due: the earlier of its next delta and next reconcile, not before its back-off.
    static let due = "greatest(least(s.next_delta_at, s.next_reconcile_at), s.backoff_until)"

    /// A change to one of a shop's schedule intervals.
    public enum Interval: Sendable, Equatable {
        case unchanged
        case every(seconds: Double)
        case off
    }

    /// Sets a shop's schedule. A delta schedule that is new is due at once (the first claim runs the
    /// full import when there is none yet); a reconcile is first due one interval from now.
    public func setSchedule(shopID: Int64, delta: Interval, reconcile: Interval) throws {
        func parts(_ i: Interval) -> (set: Bool, seconds: String?) {
            switch i {
            case .unchanged: return (false, nil)
            case .every(let s): return (true, String(s))
            case .off: return (true, nil)
            }
        }
        let d = parts(delta), r = parts(reconcile)
        try connection.transaction {
            try connection.query(
                "INSERT INTO shop_schedules (shop_id) VALUES ($1) ON CONFLICT (shop_id) DO NOTHING", [shopID], name: "schedule row")
            try connection.query(
                """
                UPDATE shop_schedules s SET
                    delta_every = CASE WHEN $2 THEN make_interval(secs => $3::double precision) ELSE s.delta_every END,
                    next_delta_at = CASE WHEN NOT $2 THEN s.next_delta_at WHEN $3 IS NULL THEN NULL
                                         ELSE coalesce(s.next_delta_at, now()) END,
                    reconcile_every = CASE WHEN $4 THEN make_interval(secs => $5::double precision) ELSE s.reconcile_every END,
                    next_reconcile_at = CASE WHEN NOT $4 THEN s.next_reconcile_at WHEN $5 IS NULL THEN NULL
                                             ELSE coalesce(s.next_reconcile_at, now() + make_interval(secs => $5::double precision)) END,
                    updated_at = now()
                WHERE s.shop_id = $1
                """, [shopID, d.set, d.seconds, r.set, r.seconds], name: "set schedule")
            try connection.query("SELECT pg_notify($1, 'schedule')", [Self.channel], name: "notify schedule")
        }
    }

    /// A shop due for work now, most overdue first.
    public struct Candidate: Sendable, Equatable {
        public var shopID: Int64
        public var name: String
    }

    /// The enabled shops due now, most overdue first.
    public func due(limit: Int = 64) throws -> [Candidate] {
        try connection.query(
            """
            SELECT s.shop_id, sh.name FROM shop_schedules s JOIN shops sh ON sh.id = s.shop_id
            WHERE sh.enabled AND \(Self.due) <= now()
            ORDER BY \(Self.due), s.shop_id
            LIMIT $1
            """, [limit], name: "due shops"
        ).map { Candidate(shopID: try $0["shop_id"].decode(Int64.self), name: try $0["name"].decode(String.self)) }
    }

    /// Seconds until the next enabled shop not held by a live worker is due (nil: none is scheduled).
    public func secondsUntilNextDue() throws -> Double? {
        try connection.query(
            """
            SELECT extract(epoch FROM min(\(Self.due)) - clock_timestamp())::float8 AS wait
            FROM shop_schedules s JOIN shops sh ON sh.id = s.shop_id
            WHERE sh.enabled AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = s.holder_backend_pid)
            """, name: "next due"
        ).first?["wait"].float
    }

    /// A claim: the shop's lock is held by the claiming session.
    public struct Claim: Sendable {
        public var id: Int64
        public var shopID: Int64
        public var mode: ImportMode
    }

    /// Records a claim of a shop whose lock this session has just taken, if the shop is still due
    /// (another worker may have finished it between the look and the lock): ends the claims of
    /// holders that died (their lock went with their session), picks the work, marks the holder.
    func begin(shopID: Int64, host: String, pid: Int32, resources: [String]) throws -> Claim? {
        try connection.transaction { () throws -> Claim? in
            let row = try connection.query(
                """
                SELECT \(Self.due) <= now() AS due, s.next_reconcile_at <= now() AS reconcile_due
                FROM shop_schedules s JOIN shops sh ON sh.id = s.shop_id WHERE s.shop_id = $1 AND sh.enabled FOR UPDATE OF s
                """, [shopID], name: "claim: still due?"
            ).first
            guard let row, row["due"].bool == true else { return nil }
            // This session holds the lock: an open claim of the shop is a dead holder's. A server
            // restart ended it at the latest when the server started again.
            try connection.query(
                """
                UPDATE fleet_claims SET outcome = 'abandoned',
                    ended_at = CASE WHEN started_at < pg_postmaster_start_time() THEN pg_postmaster_start_time() ELSE clock_timestamp() END,
                    error = CASE WHEN started_at < pg_postmaster_start_time() THEN 'the database server restarted'
                                 ELSE 'the worker''s session ended without finishing' END
                WHERE shop_id = $1 AND ended_at IS NULL
                """, [shopID], name: "claim: end dead claims")
            let ledger = RunLedger(connection: connection)
            let fullDone = try resources.allSatisfy { try ledger.highWater(shopID: shopID, resource: $0)?.fullImportDone == true }
            let mode = FleetSchedule.mode(fullImportDone: fullDone, reconcileDue: row["reconcile_due"].bool == true)
            let id = try connection.query(
                """
                INSERT INTO fleet_claims (shop_id, mode, host, pid, backend_pid) VALUES ($1, $2, $3, $4, pg_backend_pid())
                RETURNING id
                """, [shopID, mode.rawValue, host, Int(pid)], name: "claim: record"
            ).first?["id"].int64
            try connection.query(
                """
                UPDATE shop_schedules SET holder_host = $2, holder_pid = $3, holder_backend_pid = pg_backend_pid(),
                    held_since = clock_timestamp(), last_started_at = clock_timestamp(), last_mode = $4, updated_at = now()
                WHERE shop_id = $1
                """, [shopID, host, Int(pid), mode.rawValue], name: "claim: holder")
            guard let id else { throw ShopError(.ledgerInconsistent, "recording the claim of shop \(shopID) returned no id") }
            return Claim(id: id, shopID: shopID, mode: mode)
        }
    }

    /// How a claimed import ended.
    public enum Outcome: String, Sendable {
        case ok, failed, interrupted
    }

    /// Records how a claim ended and when the shop is next due: after success one interval later
    /// (and the failure count reset), after a failure a back-off (`FleetSchedule.backoff`), after an
    /// interruption unchanged (due again at once, to be resumed). Notifies the other workers.
    func finish(_ claim: Claim, outcome: Outcome, error: String?, backoff: (base: Double, cap: Double)) throws {
        try connection.transaction {
            try connection.query(
                "UPDATE fleet_claims SET ended_at = clock_timestamp(), outcome = $3, error = $4 WHERE shop_id = $1 AND id = $2",
                [claim.shopID, claim.id, outcome.rawValue, error.map { String($0.prefix(2000)) }], name: "claim: end")
            let failures =
                try connection.query(
                    """
                    UPDATE shop_schedules s SET
                        last_outcome = $2, last_error = $3, last_finished_at = clock_timestamp(),
                        consecutive_failures = CASE $2 WHEN 'ok' THEN 0 WHEN 'failed' THEN s.consecutive_failures + 1 ELSE s.consecutive_failures END,
                        next_delta_at = CASE WHEN $2 = 'ok' AND $4 <> 'reconcile' AND s.delta_every IS NOT NULL THEN now() + s.delta_every
                                             ELSE s.next_delta_at END,
                        next_reconcile_at = CASE WHEN $2 = 'ok' AND $4 = 'reconcile' AND s.reconcile_every IS NOT NULL THEN now() + s.reconcile_every
                                                 ELSE s.next_reconcile_at END,
                        backoff_until = CASE $2 WHEN 'ok' THEN NULL ELSE s.backoff_until END,
                        holder_host = NULL, holder_pid = NULL, holder_backend_pid = NULL, held_since = NULL, updated_at = now()
                    WHERE s.shop_id = $1
                    RETURNING s.consecutive_failures
                    """, [claim.shopID, outcome.rawValue, error.map { String($0.prefix(2000)) }, claim.mode.rawValue],
                    name: "claim: schedule"
                ).first?["consecutive_failures"].int ?? 0
            if outcome == .failed {
                let wait = FleetSchedule.backoff(failures: failures, base: backoff.base, cap: backoff.cap)
                try connection.query(
                    "UPDATE shop_schedules SET backoff_until = clock_timestamp() + make_interval(secs => $2::double precision) WHERE shop_id = $1",
                    [claim.shopID, wait], name: "claim: back off")
            }
            try connection.query("SELECT pg_notify($1, 'claim')", [Self.channel], name: "notify claim")
        }
    }

    /// A shop's schedule as `status` shows it.
    public func status(shop: Shop) throws -> ScheduleStatus? {
        let key = ImportLock(shopID: shop.id).key
        return try connection.query(
            """
            SELECT extract(epoch FROM s.delta_every)::float8 AS delta_every, extract(epoch FROM s.reconcile_every)::float8 AS reconcile_every,
                   \(Timestamp.sql("s.next_delta_at")) AS next_delta_at, \(Timestamp.sql("s.next_reconcile_at")) AS next_reconcile_at,
                   extract(epoch FROM \(Self.due) - now())::float8 AS due_in,
                   s.consecutive_failures, \(Timestamp.sql("s.backoff_until")) AS backoff_until,
                   s.last_mode, s.last_outcome, s.last_error, \(Timestamp.sql("s.last_finished_at")) AS last_finished_at,
                   extract(epoch FROM now() - s.last_finished_at)::bigint AS finished_ago,
                   s.holder_host, s.holder_pid, \(Timestamp.sql("s.held_since")) AS held_since,
                   EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.pid = s.holder_backend_pid AND l.granted
                           AND l.objsubid = 1 AND l.classid::bigint = (($2::bigint >> 32) & 4294967295)
                           AND l.objid::bigint = ($2::bigint & 4294967295)) AS held
            FROM shop_schedules s WHERE s.shop_id = $1
            """, [shop.id, key], name: "schedule status"
        ).first.map { row in
            let held = row["held"].bool == true
            return ScheduleStatus(
                deltaEvery: row["delta_every"].float.map(FleetSchedule.format),
                reconcileEvery: row["reconcile_every"].float.map(FleetSchedule.format),
                nextDeltaAt: row["next_delta_at"].string, nextReconcileAt: row["next_reconcile_at"].string,
                dueInSeconds: row["due_in"].float.map { Int64($0.rounded()) },
                consecutiveFailures: row["consecutive_failures"].int ?? 0, backoffUntil: row["backoff_until"].string,
                lastMode: row["last_mode"].string, lastOutcome: row["last_outcome"].string, lastError: row["last_error"].string,
                lastFinishedAt: row["last_finished_at"].string, lastFinishedSecondsAgo: row["finished_ago"].int64,
                heldBy: held ? row["holder_host"].string.map { "\($0):\(row["holder_pid"].int ?? 0)" } : nil,
                heldSince: held ? row["held_since"].string : nil)
        }
    }
}

/// A shop's schedule and where its scheduled work stands.
public struct ScheduleStatus: Sendable, Encodable, Equatable {
    public var deltaEvery: String?
    public var reconcileEvery: String?
    public var nextDeltaAt: String?
    public var nextReconcileAt: String?
    /// Seconds until the shop is next due (negative: overdue), nil when nothing is scheduled.
    public var dueInSeconds: Int64?
    public var consecutiveFailures: Int
    public var backoffUntil: String?
    public var lastMode: String?
    public var lastOutcome: String?
    public var lastError: String?
    public var lastFinishedAt: String?
    public var lastFinishedSecondsAgo: Int64?
    /// `host:pid` of the worker holding the shop now (only while its session holds the lock).
    public var heldBy: String?
    public var heldSince: String?
}

extension PostgresCell {
    /// A `float8` value.
    var float: Double? { string.flatMap(Double.init) }
}
