-- Every key of a shop-data table begins with shop_id, so that a distributed PostgreSQL (Citus,
-- `create_distributed_table(…, 'shop_id')` with `shops` as a reference table) can take the schema
-- unchanged: a distributed table's primary key, unique constraints and foreign keys must include the
-- distribution column. The ledger was keyed by id alone; now (shop_id, id), and what refers to a run
-- refers to (shop_id, run). Lookups by id alone keep an index of their own.
ALTER TABLE sync_runs DROP CONSTRAINT sync_runs_parent_run_id_fkey;
ALTER TABLE sync_state DROP CONSTRAINT sync_state_last_run_id_fkey;
ALTER TABLE rejected_records DROP CONSTRAINT rejected_records_run_id_fkey;

ALTER TABLE sync_runs DROP CONSTRAINT sync_runs_pkey;
ALTER TABLE sync_runs ADD CONSTRAINT sync_runs_pkey PRIMARY KEY (shop_id, id);
CREATE INDEX sync_runs_id_idx ON sync_runs (id);
ALTER TABLE sync_runs DROP CONSTRAINT sync_runs_operation_gid_key;
ALTER TABLE sync_runs ADD CONSTRAINT sync_runs_operation_gid_key UNIQUE (shop_id, operation_gid);
ALTER TABLE sync_runs ADD CONSTRAINT sync_runs_parent_run_fkey
    FOREIGN KEY (shop_id, parent_run_id) REFERENCES sync_runs (shop_id, id);

ALTER TABLE sync_state ADD CONSTRAINT sync_state_last_run_fkey
    FOREIGN KEY (shop_id, last_run_id) REFERENCES sync_runs (shop_id, id);

ALTER TABLE rejected_records DROP CONSTRAINT rejected_records_pkey;
ALTER TABLE rejected_records ADD CONSTRAINT rejected_records_pkey PRIMARY KEY (shop_id, id);
ALTER TABLE rejected_records ADD CONSTRAINT rejected_records_run_fkey
    FOREIGN KEY (shop_id, run_id) REFERENCES sync_runs (shop_id, id) ON DELETE CASCADE;
