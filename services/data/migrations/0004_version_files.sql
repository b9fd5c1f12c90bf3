-- Each dataset version's rows are immutable Parquet files in the dataset
-- storage, named here by their storage keys once they are durable.
ALTER TABLE data.datasets ADD COLUMN files jsonb NOT NULL DEFAULT '[]'::jsonb;
ALTER TABLE data.dataset_versions ADD COLUMN files jsonb NOT NULL DEFAULT '[]'::jsonb;

-- Files no version names any more (replaced, appended over, deleted). They are
-- deleted from the storage a while after `dropped_at`, so queries that
-- started on them can finish.
CREATE TABLE data.dropped_files (
  key text PRIMARY KEY,
  dropped_at timestamptz NOT NULL DEFAULT now()
);
