import { f, type Field } from '@datalab/platform';

const QUEUE_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** Comma-separated queue names; empty means every queue. */
function queueList(env: string, doc: string): Field<readonly string[]> {
  return {
    env,
    doc,
    default: [],
    defaultText: '(empty)',
    parse: (raw) => {
      const names = raw
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part !== '');
      for (const name of names)
        if (!QUEUE_NAME.test(name)) throw new Error('must be comma-separated queue names (a-z, 0-9, -)');
      return names;
    },
  };
}

export const computeConfigSchema = {
  workerConcurrency: f.integer(
    'WORKER_CONCURRENCY',
    'Jobs one worker runs at once, per queue (`datalab worker --concurrency`, and the in-process worker of embedded mode).',
    4,
    1,
    1000,
  ),
  workerQueues: queueList(
    'WORKER_QUEUES',
    'Queues a worker takes jobs from, comma-separated (`datalab worker --queues`). Empty: every queue.',
  ),
  jobLeaseMs: f.integer(
    'JOB_LEASE_MS',
    'A running job’s lease: its worker renews it every third of this; a job whose lease ran out is requeued.',
    30_000,
    1000,
    3_600_000,
  ),
  reconcileIntervalMs: f.integer(
    'RECONCILE_INTERVAL_MS',
    'How often the reconciler requeues jobs of dead workers and re-dispatches queued jobs the queue lost.',
    5000,
    100,
    600_000,
  ),
  workerShutdownGraceMs: f.integer(
    'WORKER_SHUTDOWN_GRACE_MS',
    'On SIGTERM, how long a worker lets its running jobs finish before handing them back to the queue.',
    25_000,
    0,
    3_600_000,
  ),
  workerMetricsPort: f.optionalPort(
    'WORKER_METRICS_PORT',
    'Port where `datalab worker` serves /metrics and /health/live. Unset: none.',
    '(unset)',
  ),
  jobRetryBackoffMs: f.integer(
    'JOB_RETRY_BACKOFF_MS',
    'Wait before the first retry of a failed job; each further retry waits twice as long.',
    2000,
    0,
    3_600_000,
  ),
  schedulerIntervalMs: f.integer(
    'SCHEDULER_INTERVAL_MS',
    'How often each compute-service and worker looks for due schedules (a tick runs once whoever finds it).',
    1000,
    100,
    60_000,
  ),
  scheduleMinIntervalS: f.integer(
    'SCHEDULE_MIN_INTERVAL_S',
    'The least time between two ticks a schedule may ask for, in seconds.',
    60,
    1,
    86_400,
  ),
  schedulesPerOwner: f.integer('SCHEDULES_PER_OWNER', 'Schedules one user may own.', 100, 1, 100_000),
  jobQuotaEditor: f.integer(
    'JOB_QUOTA_EDITOR',
    'Queued and running jobs one editor may have at once (a batch counts each item); more answer 429.',
    5000,
    1,
    10_000_000,
  ),
  jobQuotaAdmin: f.integer(
    'JOB_QUOTA_ADMIN',
    'Queued and running jobs one admin may have at once (a batch counts each item); more answer 429.',
    50_000,
    1,
    10_000_000,
  ),
  jobPriorityMaxEditor: f.integer(
    'JOB_PRIORITY_MAX_EDITOR',
    'Highest priority an editor may give a job or a schedule’s job (0–100); a higher one answers 403.',
    80,
    0,
    100,
  ),
  jobPriorityMaxAdmin: f.integer(
    'JOB_PRIORITY_MAX_ADMIN',
    'Highest priority an admin may give a job or a schedule’s job (0–100).',
    100,
    0,
    100,
  ),
  jobOwnerCheck: f.oneOf(
    'JOB_OWNER_CHECK',
    'How a job or a schedule’s tick learns its owner’s current role and status when it starts: `gateway` asks the api-gateway (a disabled owner’s work fails or pauses, a demoted one’s runs with the lower role); `off` trusts what was captured at submission, only for a compute-service tested without a gateway.',
    'gateway',
    ['gateway', 'off'],
  ),
  jobOwnerCacheMs: f.integer(
    'JOB_OWNER_CACHE_MS',
    'How long an owner’s role and status, once asked, serve further jobs of theirs: a disable or a demotion reaches jobs that start this much later at most.',
    1000,
    0,
    2000,
  ),
  gatewayUrl: f.optionalUrl(
    'COMPUTE_GATEWAY_URL',
    'api-gateway the compute-service and workers ask for job owners’ current role and status. Unset: found in the service registry.',
    ['http', 'https'],
  ),
};
