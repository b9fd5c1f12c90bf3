-- The data job (sql, transform, import-url) that made a dataset. It is the
-- job's idempotency key: an attempt that runs again finds its dataset here
-- and answers with it instead of making a second one.
ALTER TABLE data.datasets ADD COLUMN job_id uuid UNIQUE;

-- Jobs used to be keyed by their output table's name, `j_` and the job id's
-- hex: a job still running across the upgrade keeps finding its dataset.
UPDATE data.datasets SET job_id = substring(table_name FROM 3)::uuid
WHERE table_name ~ '^j_[0-9a-f]{32}$';
