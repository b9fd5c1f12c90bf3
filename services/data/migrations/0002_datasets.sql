-- Dataset metadata. Each dataset's rows live in their own table in schema
-- `datasets` (named by `table_name`), with the columns listed in `columns`.
CREATE TABLE data.datasets (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- What SQL calls the dataset (`SELECT … FROM sales`): an identifier, unique.
  name text NOT NULL CHECK (name ~ '^[a-z_][a-z0-9_]{0,62}$'),
  description text NOT NULL DEFAULT '' CHECK (length(description) <= 4000),
  owner_id uuid NOT NULL,
  visibility text NOT NULL DEFAULT 'private' CHECK (visibility IN ('private', 'shared')),
  table_name text NOT NULL UNIQUE,
  -- [{ "name": safe column name, "original_name": as in the file, "type": integer|float|boolean|date|timestamp|text|json }]
  columns jsonb NOT NULL,
  row_count bigint NOT NULL DEFAULT 0,
  bytes bigint NOT NULL DEFAULT 0,
  version integer NOT NULL DEFAULT 1,
  source_format text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX datasets_name_key ON data.datasets (name);
CREATE INDEX datasets_owner_idx ON data.datasets (owner_id);

-- One row per write: what each version did.
CREATE TABLE data.dataset_versions (
  dataset_id uuid NOT NULL REFERENCES data.datasets (id) ON DELETE CASCADE,
  version integer NOT NULL,
  mode text NOT NULL CHECK (mode IN ('create', 'append', 'replace')),
  rows_written bigint NOT NULL,
  rows_rejected bigint NOT NULL DEFAULT 0,
  created_by uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (dataset_id, version)
);

-- Rows refused by an `on_error=skip` upload, kept for download (capped per upload).
CREATE TABLE data.rejects (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  dataset_id uuid NOT NULL REFERENCES data.datasets (id) ON DELETE CASCADE,
  version integer NOT NULL,
  rejected bigint NOT NULL,
  -- CSV: line, column, value, expected, raw row
  report_csv text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- A profile is computed once per version.
CREATE TABLE data.profiles (
  dataset_id uuid NOT NULL REFERENCES data.datasets (id) ON DELETE CASCADE,
  version integer NOT NULL,
  profile jsonb NOT NULL,
  computed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (dataset_id, version)
);

-- The role user SQL runs as: it may read dataset tables and nothing else.
-- Roles are cluster-wide, so another database's migration may have made it already.
DO $$
BEGIN
  CREATE ROLE datalab_reader NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
GRANT USAGE ON SCHEMA datasets TO datalab_reader;
GRANT datalab_reader TO CURRENT_USER;
