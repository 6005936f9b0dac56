-- The durable job ledger: one sync_runs row per bulk operation (or per local file load), written
-- before the operation is submitted and after every change, so that a rerun after a crash can poll,
-- download or skip instead of submitting twice.
CREATE TABLE sync_runs (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    shop_id             bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    -- full | delta | reconcile | saved | load
    kind                text NOT NULL,
    resource            text NOT NULL,
    query_name          text NOT NULL,
    query_hash          text NOT NULL,
    window_field        text,
    window_start        timestamptz,
    window_end          timestamptz,
    parent_run_id       bigint REFERENCES sync_runs (id),
    attempt             integer NOT NULL DEFAULT 1,
    -- planned | submitted | running | completed | downloading | loaded | partial | failed | canceled | expired | superseded
    status              text NOT NULL,
    operation_gid       text UNIQUE,
    shopify_status      text,
    error_code          text,
    error_message       text,
    object_count        bigint,
    root_object_count   bigint,
    file_size           bigint,
    result_url          text,
    partial_data_url    text,
    url_expires_at      timestamptz,
    bytes_downloaded    bigint NOT NULL DEFAULT 0,
    rows_loaded         bigint NOT NULL DEFAULT 0,
    rows_rejected       bigint NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL DEFAULT now(),
    submitted_at        timestamptz,
    completed_at        timestamptz,
    loaded_at           timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sync_runs_shop_idx ON sync_runs (shop_id, created_at DESC);
CREATE INDEX sync_runs_open_idx ON sync_runs (shop_id, status)
    WHERE status IN ('planned', 'submitted', 'running', 'completed', 'downloading');

-- The committed high-water mark per shop and resource: the greatest (updated_at, id) loaded.
CREATE TABLE sync_state (
    shop_id             bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    resource            text NOT NULL,
    high_water_updated_at timestamptz,
    high_water_id       bigint,
    last_run_id         bigint REFERENCES sync_runs (id),
    full_import_done_at timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, resource)
);

-- Lines a run was allowed to skip (--max-rejects): the raw bytes, where they were, and why.
CREATE TABLE rejected_records (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id              bigint NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
    shop_id             bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    source              text NOT NULL,
    line_number         bigint NOT NULL,
    byte_offset         bigint NOT NULL,
    reason              text NOT NULL,
    raw_line            bytea NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rejected_records_run_idx ON rejected_records (run_id);
