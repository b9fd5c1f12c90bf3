-- The queued-jobs index is keyed by id instead of run_after. A worker claims jobs by id
-- (`id = ANY(...) AND state = 'queued' AND run_after <= now()`): with run_after as the key, the
-- planner took the whole index as the run_after range and filtered it by id, reading every queued
-- entry, and every entry of a job already run that vacuum had not yet removed, on each claim
-- (thousands under load). Keyed by id, a claim reads its own entries only. The reconciler pages
-- queued jobs in id order, which this index also serves; the oldest-queued-age metric scans the
-- queued jobs, few by nature.
DROP INDEX compute.jobs_queued;
CREATE INDEX jobs_queued ON compute.jobs (id) WHERE state = 'queued';
