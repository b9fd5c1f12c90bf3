-- Saved dashboards: a grid of saved charts and text blocks. owner_id names a user of
-- the gateway's auth schema (no foreign key: each service owns its own schema).
-- Charts are referenced inside `layout` by id; a chart deleted later shows as unavailable.
CREATE TABLE viz.dashboards (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id uuid NOT NULL,
  visibility text NOT NULL DEFAULT 'private' CHECK (visibility IN ('private', 'shared')),
  title text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
  description text NOT NULL DEFAULT '' CHECK (char_length(description) <= 2000),
  layout jsonb NOT NULL CHECK (jsonb_typeof(layout) = 'object'),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX dashboards_owner_id_idx ON viz.dashboards (owner_id);

-- Renders made by `render` jobs, kept so the job's result can link them
-- (GET /api/v1/viz/exports/{id}). One per job: a job that runs again finds its own.
CREATE TABLE viz.render_exports (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  job_id uuid NOT NULL UNIQUE,
  owner_id uuid NOT NULL,
  content_type text NOT NULL,
  filename text NOT NULL,
  bytes bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX render_exports_owner_id_idx ON viz.render_exports (owner_id);
