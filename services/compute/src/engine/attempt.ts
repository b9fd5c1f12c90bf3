import type { Logger, Principal } from '@datalab/platform';
import { PermanentJobError, runInSavedTrace, type JobContext, type LogLevel } from '@datalab/platform';
import type { OwnerRights } from '../owners/owner-rights.ts';
import type { JobTypeRegistry } from '../job-types/registry.ts';
import type { Processed } from './dispatcher.ts';
import type { AttemptOutcome, WorkerMetrics } from './engine.metrics.ts';
import { createBatcher } from './batcher.ts';
import type { ClaimedJob, EngineRepository, FailedState } from './engine.repository.ts';
import { Interruption, untilAborted } from './interruption.ts';
import type { Announce } from './job-events.ts';
import { createProgressReporter } from './progress-reporter.ts';

const DONE: Processed = { kind: 'done' };
const MAX_BACKOFF_MS = 3_600_000;
/** Claims or results written in one statement at most. */
const BATCH = 100;
/** A job whose owner's rights could not be learnt (the gateway away) is tried again this much later. */
const UNCONFIRMED_DELAY_MS = 5000;

export interface AttemptDeps {
  repository: EngineRepository;
  types: JobTypeRegistry;
  announce: Announce;
  logger: Logger;
  metrics: WorkerMetrics;
  /** Each attempt runs with its owner's rights of the moment it starts. */
  owners: OwnerRights;
  workerId: string;
  leaseMs: number;
  retryBackoffMs: number;
  /** Progress writes per job at most this often. */
  progressIntervalMs: number;
}

/** Runs deliveries: claim, run the handler under its signal, write the outcome. */
export function createAttemptRunner(deps: AttemptDeps) {
  const { repository, workerId } = deps;
  /** The attempts running here, so a cancel, a lost lease or a shutdown can abort them. */
  const running = new Map<string, AbortController>();
  /** Set by `interruptAll`: an attempt claimed afterwards is interrupted at once too. */
  let closing: Interruption | undefined;

  // Deliveries arrive one by one; their claims and results go to PostgreSQL in batches.
  const claim = createBatcher(async (ids: string[]) => {
    const claimed = new Map((await repository.claimMany(ids, workerId, deps.leaseMs)).map((j) => [j.id, j]));
    // An id delivered twice in one batch is claimed once: only its first delivery runs it.
    return ids.map((id) => {
      const job = claimed.get(id);
      claimed.delete(id);
      return job;
    });
  }, BATCH);
  const succeed = createBatcher(async (outcomes: { id: string; result: unknown }[]) => {
    const written = await repository.succeedMany(workerId, outcomes);
    return outcomes.map((outcome) => written.has(outcome.id));
  }, BATCH);

  /** After a delivery this worker could not (or no longer) run: deliver again if the job waits for a later time. */
  async function laterIfQueued(id: string): Promise<Processed> {
    const queued = await repository.findQueued(id);
    return queued ? { kind: 'later', at: queued.run_after } : DONE;
  }

  /**
   * Who the attempt acts as: the job's owner with the rights they have now. An owner who may run
   * nothing now fails the job for good, before its handler does anything.
   */
  async function ownerNow(job: ClaimedJob): Promise<Principal> {
    let verdict;
    try {
      verdict = await deps.owners.check(job.owner);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new Interruption('unconfirmed', `its owner’s current rights are unknown (${why})`);
    }
    if (!verdict.allowed) throw new PermanentJobError(`Not run: ${verdict.reason}`);
    return verdict.principal;
  }

  function contextFor(
    job: ClaimedJob,
    owner: Principal,
    signal: AbortSignal,
    report: JobContext<unknown>['progress'],
  ) {
    const log = async (level: LogLevel, message: string): Promise<void> => {
      await repository.log(job.id, level, message).catch((error: unknown) => {
        deps.logger.warn({ err: error, job_id: job.id }, 'could not write a job log line');
      });
    };
    return {
      jobId: job.id,
      params: job.params,
      owner,
      attempt: job.attempts,
      signal,
      progress: report,
      log,
    };
  }

  async function fail(
    job: ClaimedJob,
    reason: unknown,
  ): Promise<{ processed: Processed; outcome: AttemptOutcome }> {
    const timedOut = reason instanceof Interruption && reason.reason === 'timeout';
    const message = reason instanceof Error ? reason.message : String(reason);
    const state: FailedState =
      reason instanceof PermanentJobError ? 'failed' : job.attempts >= job.max_attempts ? 'dead' : 'queued';
    const retryInMs = Math.min(MAX_BACKOFF_MS, deps.retryBackoffMs * 2 ** (job.attempts - 1));
    const next =
      state === 'queued'
        ? `retrying in ${(retryInMs / 1000).toFixed(1)} s`
        : state === 'dead'
          ? `no attempts left (${job.max_attempts})`
          : 'not retried: retrying cannot fix it';
    const error = { message, kind: timedOut ? 'timeout' : 'error', attempt: job.attempts };
    const pointer = await repository.fail(job.id, workerId, state, error, retryInMs);
    const outcome = timedOut ? 'timed_out' : 'failed';
    // Cancelled or requeued meanwhile: this failure is not the job's any more.
    if (!pointer) return { processed: await laterIfQueued(job.id), outcome };
    await repository.log(job.id, 'error', `attempt ${job.attempts} failed: ${message}; ${next}`);
    deps.announce(job.id);
    return { processed: state === 'queued' ? { kind: 'later', at: pointer.run_after } : DONE, outcome };
  }

  /** Queued again, the attempt not counted: now (shutdown), or in a while (owner's rights unknown). */
  async function handBack(
    job: ClaimedJob,
    reason: Interruption,
  ): Promise<{ processed: Processed; outcome: AttemptOutcome }> {
    const later = reason.reason === 'unconfirmed';
    const back = await repository.handBack(job.id, workerId, later ? UNCONFIRMED_DELAY_MS : 0);
    if (back) {
      const line = later
        ? `waiting: ${reason.message}; trying again in ${UNCONFIRMED_DELAY_MS / 1000} s`
        : `handed back: worker ${workerId} is shutting down`;
      await repository.log(job.id, 'warn', line);
      deps.announce(job.id);
    }
    return { processed: back ? { kind: 'later', at: back.run_after } : DONE, outcome: 'handed_back' };
  }

  async function settle(
    job: ClaimedJob,
    work: Promise<unknown>,
    signal: AbortSignal,
  ): Promise<{ processed: Processed; outcome: AttemptOutcome }> {
    try {
      const result = await untilAborted(work, signal);
      if (await succeed({ id: job.id, result })) {
        deps.announce(job.id);
        return { processed: DONE, outcome: 'succeeded' };
      }
      // Cancelled or requeued meanwhile: this result is not the job's.
      return { processed: await laterIfQueued(job.id), outcome: 'lost' };
    } catch (thrown) {
      const reason: unknown = signal.aborted ? signal.reason : thrown;
      if (!(reason instanceof Interruption) || reason.reason === 'timeout') return fail(job, reason);
      if (reason.reason === 'shutdown' || reason.reason === 'unconfirmed') return handBack(job, reason);
      return { processed: await laterIfQueued(job.id), outcome: reason.reason };
    }
  }

  async function run(job: ClaimedJob): Promise<Processed> {
    const started = performance.now();
    const controller = new AbortController();
    running.set(job.id, controller);
    if (closing) controller.abort(closing);
    deps.metrics.attempts.inc({ type: job.type });
    deps.announce(job.id);
    const progress = createProgressReporter(async (percent, message) => {
      try {
        if (await repository.saveProgress(job.id, workerId, percent, message)) deps.announce(job.id);
      } catch (error) {
        deps.logger.warn({ err: error, job_id: job.id }, 'could not save job progress');
      }
    }, deps.progressIntervalMs);
    const timer = setTimeout(
      () => controller.abort(new Interruption('timeout', `timed out after ${job.timeout_ms} ms`)),
      job.timeout_ms,
    );
    try {
      const type = deps.types.get(job.type);
      const work = type
        ? ownerNow(job).then((owner) =>
            type.handler(contextFor(job, owner, controller.signal, progress.report)),
          )
        : Promise.reject(new PermanentJobError(`no worker here knows the job type "${job.type}"`));
      deps.logger.info({ job_id: job.id, type: job.type, attempt: job.attempts }, 'job attempt started');
      const { processed, outcome } = await settle(job, work, controller.signal);
      const seconds = (performance.now() - started) / 1000;
      deps.metrics.duration.observe({ type: job.type, outcome }, seconds);
      deps.logger.info(
        { job_id: job.id, type: job.type, outcome, ms: Math.round(seconds * 1000) },
        'job attempt ended',
      );
      return processed;
    } finally {
      clearTimeout(timer);
      progress.stop();
      running.delete(job.id);
    }
  }

  return {
    running,
    /** One delivery of job `id`. Throws only when PostgreSQL cannot be reached. */
    process: async (id: string): Promise<Processed> => {
      const job = await claim(id);
      if (!job) return laterIfQueued(id);
      const attributes = {
        'datalab.job.id': job.id,
        'datalab.job.type': job.type,
        'datalab.job.attempt': job.attempts,
      };
      return runInSavedTrace(job.trace_context, `job ${job.type}`, attributes, () => run(job));
    },
    /** Aborts the attempt of `id` if it runs here. */
    interrupt: (id: string, interruption: Interruption): void => running.get(id)?.abort(interruption),
    interruptAll: (interruption: Interruption): void => {
      closing = interruption;
      for (const controller of running.values()) controller.abort(interruption);
    },
  };
}

export type AttemptRunner = ReturnType<typeof createAttemptRunner>;
