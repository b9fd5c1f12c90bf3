-- Schedules: a cron expression and a job template; each tick becomes one job.
CREATE TABLE compute.schedules (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id uuid NOT NULL,
  -- The creator (kind, email, role): the jobs it starts act on their behalf, as if they had submitted them.
  owner jsonb NOT NULL,
  name text NOT NULL,
  cron text NOT NULL,
  timezone text NOT NULL DEFAULT 'UTC',
  job_type text NOT NULL,
  job_params jsonb NOT NULL DEFAULT '{}',
  job_priority integer NOT NULL DEFAULT 50 CHECK (job_priority BETWEEN 0 AND 100),
  visibility text NOT NULL DEFAULT 'private' CHECK (visibility IN ('private', 'shared')),
  paused boolean NOT NULL DEFAULT false,
  -- The tick due next; NULL while paused.
  next_run_at timestamptz,
  last_run_at timestamptz,
  last_job_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (paused = (next_run_at IS NULL))
);

CREATE INDEX schedules_owner_created ON compute.schedules (owner_id, created_at DESC);
CREATE INDEX schedules_due ON compute.schedules (next_run_at) WHERE NOT paused;

-- One row per tick that ran: its primary key is what makes a tick run once however many schedulers race for it.
CREATE TABLE compute.schedule_runs (
  schedule_id uuid NOT NULL REFERENCES compute.schedules (id) ON DELETE CASCADE,
  tick timestamptz NOT NULL,
  job_id uuid REFERENCES compute.jobs (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (schedule_id, tick)
);

CREATE INDEX schedule_runs_job ON compute.schedule_runs (job_id);
-- Run records older than a month are pruned (their ticks can never come round again).
CREATE INDEX schedule_runs_tick ON compute.schedule_runs (tick);
