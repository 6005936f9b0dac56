-- The run lifecycle as data: sync_runs.status and kind take only the values the code knows
-- (RunStatus in Sources/Importer/Runs/RunStatus.swift; a test checks both lists match), the partial
-- index of open runs covers exactly RunStatus.open, and windows are found by their parent without
-- a scan (a full import of a shop with years of history has hundreds).
ALTER TABLE sync_runs ADD CONSTRAINT sync_runs_status_check CHECK (status IN (
    'planned', 'submitting', 'submitted', 'running', 'completed', 'downloading', 'loading',
    'loaded', 'partial', 'empty', 'failed', 'canceled', 'expired', 'superseded', 'retried'));
ALTER TABLE sync_runs ADD CONSTRAINT sync_runs_kind_check CHECK (kind IN ('full', 'delta', 'reconcile', 'saved', 'load'));

DROP INDEX sync_runs_open_idx;
CREATE INDEX sync_runs_open_idx ON sync_runs (shop_id, status)
    WHERE status IN ('planned', 'submitting', 'submitted', 'running', 'completed', 'downloading', 'loading');
CREATE INDEX sync_runs_parent_idx ON sync_runs (parent_run_id, status) WHERE parent_run_id IS NOT NULL;
