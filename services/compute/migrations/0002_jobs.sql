-- Jobs: PostgreSQL is the truth. The queue (BullMQ or the in-process executor) only carries ids.
CREATE TABLE compute.jobs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id uuid NOT NULL,
  -- The caller at submission (kind, email, role), so a handler can act on their behalf.
  owner jsonb NOT NULL,
  type text NOT NULL,
  queue text NOT NULL,
  params jsonb NOT NULL DEFAULT '{}',
  state text NOT NULL DEFAULT 'queued'
    CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'dead')),
  priority integer NOT NULL DEFAULT 50 CHECK (priority BETWEEN 0 AND 100),
  progress integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  progress_message text,
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  max_attempts integer NOT NULL CHECK (max_attempts >= 1),
  timeout_ms integer NOT NULL CHECK (timeout_ms >= 1),
  -- Not claimable before this (retry backoff).
  run_after timestamptz NOT NULL DEFAULT now(),
  worker_id text,
  -- A running job whose lease ran out lost its worker: the reconciler requeues it.
  lease_until timestamptz,
  result jsonb,
  error jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX jobs_owner_created ON compute.jobs (owner_id, created_at DESC);
CREATE INDEX jobs_created ON compute.jobs (created_at DESC);
-- The reconciler and the metrics read the unfinished jobs only.
CREATE INDEX jobs_queued ON compute.jobs (run_after) WHERE state = 'queued';
CREATE INDEX jobs_running_lease ON compute.jobs (lease_until) WHERE state = 'running';

CREATE TABLE compute.job_logs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_id uuid NOT NULL REFERENCES compute.jobs (id) ON DELETE CASCADE,
  at timestamptz NOT NULL DEFAULT now(),
  level text NOT NULL CHECK (level IN ('debug', 'info', 'warn', 'error')),
  message text NOT NULL
);

CREATE INDEX job_logs_job ON compute.job_logs (job_id, id);

CREATE TABLE compute.workers (
  id text PRIMARY KEY,
  queues text[] NOT NULL,
  concurrency integer NOT NULL,
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz NOT NULL DEFAULT now()
);
