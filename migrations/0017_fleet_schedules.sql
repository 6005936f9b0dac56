-- The worker fleet (`shopbulk worker`): each shop's schedule and where its scheduled work stands, and
-- a record of every claim a worker made, with timestamps from the database's clock.
--
-- Claiming: a worker takes the shop's import lock (a session-level advisory lock on a session it
-- holds for the whole import; the server drops it with the session when the worker dies), then
-- records the claim here. The lock, not these rows, is what keeps two workers off one shop; the
-- rows say who held it and when, for `status` and for checking afterwards that claims never overlapped.
CREATE TABLE shop_schedules (
    shop_id             bigint PRIMARY KEY REFERENCES shops (id) ON DELETE CASCADE,
    -- NULL: the work of that kind is not scheduled.
    delta_every         interval CHECK (delta_every IS NULL OR delta_every >= interval '1 second'),
    reconcile_every     interval CHECK (reconcile_every IS NULL OR reconcile_every >= interval '1 second'),
    next_delta_at       timestamptz,
    next_reconcile_at   timestamptz,
    -- After failures in a row the shop waits until backoff_until (doubling, capped).
    consecutive_failures integer NOT NULL DEFAULT 0,
    backoff_until       timestamptz,
    last_mode           text CHECK (last_mode IN ('full', 'delta', 'reconcile')),
    last_outcome        text CHECK (last_outcome IN ('ok', 'failed', 'interrupted')),
    last_error          text,
    last_started_at     timestamptz,
    last_finished_at    timestamptz,
    -- The worker holding the shop now (host, process id, its database backend): shown by `status`
    -- only while that backend still holds the lock.
    holder_host         text,
    holder_pid          integer,
    holder_backend_pid  integer,
    held_since          timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX shop_schedules_due_idx ON shop_schedules (next_delta_at);

CREATE TABLE fleet_claims (
    shop_id             bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    id                  bigint GENERATED ALWAYS AS IDENTITY,
    mode                text NOT NULL CHECK (mode IN ('full', 'delta', 'reconcile')),
    host                text NOT NULL,
    pid                 integer NOT NULL,
    backend_pid         integer NOT NULL,
    started_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    ended_at            timestamptz,
    -- ok | failed | interrupted | abandoned (the holder died; ended_at is when the next holder found it,
    -- or the server's start time when a restart ended it)
    outcome             text CHECK (outcome IN ('ok', 'failed', 'interrupted', 'abandoned')),
    error               text,
    PRIMARY KEY (shop_id, id)
);
CREATE INDEX fleet_claims_open_idx ON fleet_claims (shop_id) WHERE ended_at IS NULL;
