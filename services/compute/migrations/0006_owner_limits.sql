-- Each submission counts its owner's queued and running jobs against their quota: this index holds
-- only those jobs, so a count reads the owner's unfinished jobs and never their history.
CREATE INDEX jobs_owner_active ON compute.jobs (owner_id) WHERE state IN ('queued', 'running');

-- Why a schedule paused itself (its owner disabled or demoted to viewer, its API key revoked, its
-- expression never firing again); NULL when a person paused it, or it runs.
ALTER TABLE compute.schedules ADD COLUMN paused_reason text;
-- Why the last tick submitted no job (its owner at their job quota, its job no longer valid).
ALTER TABLE compute.schedules ADD COLUMN last_skip_reason text;
