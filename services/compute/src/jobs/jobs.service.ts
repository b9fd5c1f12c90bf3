import {
  AppError,
  assertCanCreate,
  assertCanManage,
  assertCanRead,
  type Events,
  type Logger,
  type OwnedResource,
  type Principal,
} from '@datalab/platform';
import type { Dispatcher } from '../engine/dispatcher.ts';
import { CANCEL_CHANNEL, createAnnouncer, type CancelMessage } from '../engine/job-events.ts';
import type { JobTypeRegistry } from '../job-types/registry.ts';
import { checkParams, knownType } from './job-params.ts';
import { createBatcher } from '../engine/batcher.ts';
import { admitEach, checkPriority, checkQuota, type JobLimits } from './job-limits.ts';
import {
  traced,
  type JobRow,
  type JobsRepository,
  type JobsTransaction,
  type TracedJob,
} from './jobs.repository.ts';
import type {
  CreateJobBody,
  CreateJobsBody,
  JobBatch,
  Job,
  JobList,
  JobLogs,
  JobState,
  JobTypeList,
  ListJobsQuery,
  LogsQuery,
} from './jobs.schemas.ts';

const WHAT = 'job';
const RETRYABLE: readonly JobState[] = ['failed', 'dead', 'cancelled'];
const DEFAULT_PRIORITY = 50;
/** Single submissions written in one statement at most. */
const SUBMIT_BATCH = 100;

export interface JobsServiceDeps {
  repository: JobsRepository;
  /** For what must count and write as one: a submission within its owner's quota. */
  transaction: JobsTransaction;
  limits: JobLimits;
  dispatcher: Dispatcher;
  types: JobTypeRegistry;
  events: Events;
  logger: Logger;
}

const iso = (date: Date | null): string | null => date?.toISOString() ?? null;

export function toJob(row: JobRow): Job {
  return {
    ...row,
    result: row.result ?? null,
    run_after: row.run_after.toISOString(),
    created_at: row.created_at.toISOString(),
    started_at: iso(row.started_at),
    finished_at: iso(row.finished_at),
    updated_at: row.updated_at.toISOString(),
  };
}

/** Jobs are private to their owner (admins see all). */
function ownership(row: JobRow | undefined): OwnedResource | undefined {
  return row && { ownerId: row.owner_id, visibility: 'private' };
}

export function createJobsService(deps: JobsServiceDeps) {
  const { repository } = deps;
  const announce = createAnnouncer(deps.events, deps.logger);

  async function readable(principal: Principal, id: string): Promise<JobRow> {
    const row = await repository.findById(id);
    assertCanRead(principal, ownership(row), WHAT);
    return row!;
  }

  async function manageable(principal: Principal, id: string): Promise<JobRow> {
    const row = await repository.findById(id);
    assertCanManage(principal, ownership(row), WHAT);
    return row!;
  }

  /** PostgreSQL holds the jobs already: if the queue cannot take them now, the reconciler dispatches them later. */
  async function dispatch(...rows: JobRow[]): Promise<void> {
    try {
      await deps.dispatcher.dispatch(
        rows.map((row) => ({
          id: row.id,
          queue: row.queue,
          priority: row.priority,
          runAfter: row.run_after,
        })),
      );
    } catch (error) {
      deps.logger.warn({ err: error, jobs: rows.length }, 'could not dispatch jobs now; the reconciler will');
    }
  }

  /**
   * Single submissions made at the same time share one transaction, one INSERT and one dispatch
   * (each request still answers once its own job is stored and dispatched, or refused for its
   * owner's quota): one commit and one queue round trip per batch instead of per job.
   */
  const submitOne = createBatcher(async (jobs: TracedJob[]): Promise<(JobRow | AppError)[]> => {
    const outcomes = await deps.transaction(async (tx) => {
      const admitted = admitEach(
        deps.limits,
        jobs,
        await tx.lockActiveCounts(jobs.map((j) => j.owner.userId)),
      );
      const accepted = admitted.filter((job): job is TracedJob => !(job instanceof AppError));
      const rows = accepted.length > 0 ? await tx.insertEach(accepted) : [];
      let next = 0;
      return admitted.map((job) => (job instanceof AppError ? job : rows[next++]!));
    });
    await dispatch(...outcomes.filter((row): row is JobRow => !(row instanceof AppError)));
    return outcomes;
  }, SUBMIT_BATCH);

  /** What a job of this body is, once its type, params and priority passed (errors name `field`'s members). */
  function checked(principal: Principal, body: CreateJobBody, field: string) {
    const type = knownType(deps.types, body.type, `${field}/type`);
    const params = checkParams(type, body.params ?? {}, `${field}/params`);
    const priority = body.priority ?? DEFAULT_PRIORITY;
    checkPriority(deps.limits, principal.role, priority, `${field}/priority`);
    return {
      type: type.type,
      queue: type.queue,
      params,
      priority,
      maxAttempts: type.maxAttempts,
      timeoutMs: type.timeoutMs,
    };
  }

  const conflict = (row: JobRow, allowed: string): AppError =>
    new AppError('conflict', `The job is ${row.state}: only ${allowed} jobs can be changed this way`);

  return {
    types(): JobTypeList {
      return {
        types: deps.types.names().map((name) => {
          const type = deps.types.get(name)!;
          return {
            type: name,
            queue: type.queue,
            timeout_ms: type.timeoutMs,
            max_attempts: type.maxAttempts,
            params: type.params,
          };
        }),
      };
    },

    async submit(principal: Principal, body: CreateJobBody): Promise<Job> {
      assertCanCreate(principal, WHAT);
      const outcome = await submitOne(traced({ owner: principal, ...checked(principal, body, '/body') }));
      if (outcome instanceof AppError) throw outcome;
      return toJob(outcome);
    },

    /**
     * Many jobs in one call (one statement, one dispatch): all are queued, or none — each item
     * counts against the quota, and a batch the quota cannot hold whole is refused whole.
     */
    async submitMany(principal: Principal, body: CreateJobsBody): Promise<JobBatch> {
      assertCanCreate(principal, WHAT);
      const jobs = body.jobs.map((job, index) =>
        traced({ owner: principal, ...checked(principal, job, `/body/jobs/${index}`) }),
      );
      const rows = await deps.transaction(async (tx) => {
        const counts = await tx.lockActiveCounts([principal.userId]);
        checkQuota(deps.limits, principal.role, counts.get(principal.userId) ?? 0, jobs.length);
        return tx.insertEach(jobs);
      });
      await dispatch(...rows);
      return { jobs: rows.map(toJob) };
    },

    async list(principal: Principal, query: ListJobsQuery): Promise<JobList> {
      const mine = query.owner === 'me' || principal.role !== 'admin';
      const { rows, total } = await repository.list(
        { ownerId: mine ? principal.userId : undefined, state: query.state, type: query.type },
        query.limit,
        query.offset,
      );
      return { jobs: rows.map(toJob), total };
    },

    async get(principal: Principal, id: string): Promise<Job> {
      return toJob(await readable(principal, id));
    },

    async logs(principal: Principal, id: string, query: LogsQuery): Promise<JobLogs> {
      await readable(principal, id);
      const rows = await repository.logs(id, query.limit, query.offset);
      return { logs: rows.map((row) => ({ ...row, at: row.at.toISOString() })) };
    },

    /** A queued job never starts; a running one is told to abort (its late result is ignored). */
    async cancel(principal: Principal, id: string): Promise<Job> {
      const before = await manageable(principal, id);
      const row = await repository.cancel(id);
      if (!row) throw conflict(before, 'queued or running');
      await repository.log(id, 'info', `cancelled by ${principal.email}`);
      if (row.was === 'running') {
        const message: CancelMessage = { id };
        await deps.events.publish(CANCEL_CHANNEL, message).catch((error: unknown) => {
          // The worker also finds out when it next renews the lease.
          deps.logger.warn({ err: error, job_id: id }, 'could not publish a cancel');
        });
      }
      announce(id);
      return toJob(row);
    },

    /**
     * Runs it again with a fresh budget of attempts (the type's), counting on from the last. The
     * job is its owner's again, so it counts against their quota (sized by the caller's role).
     */
    async retry(principal: Principal, id: string): Promise<Job> {
      const before = await manageable(principal, id);
      if (!RETRYABLE.includes(before.state)) throw conflict(before, 'failed, dead or cancelled');
      const budget = deps.types.get(before.type)?.maxAttempts ?? before.max_attempts;
      const row = await deps.transaction(async (tx) => {
        const counts = await tx.lockActiveCounts([before.owner_id]);
        checkQuota(deps.limits, principal.role, counts.get(before.owner_id) ?? 0, 1);
        return tx.retry(id, budget);
      });
      if (!row) throw conflict((await repository.findById(id)) ?? before, 'failed, dead or cancelled');
      await repository.log(id, 'info', `retried by ${principal.email}`);
      await dispatch(row);
      announce(id);
      return toJob(row);
    },

    async delete(principal: Principal, id: string): Promise<void> {
      await manageable(principal, id);
      if (!(await repository.delete(id))) {
        // Not deleted: it runs (refused), or it was deleted meanwhile (done either way).
        const now = await repository.findById(id);
        if (now) throw conflict(now, 'queued or finished');
      }
      announce(id);
    },
  };
}

export type JobsService = ReturnType<typeof createJobsService>;
