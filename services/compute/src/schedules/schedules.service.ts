import { randomUUID } from 'node:crypto';
import {
  AppError,
  assertCanCreate,
  assertCanManage,
  assertCanRead,
  type OwnedResource,
  type Principal,
} from '@datalab/platform';
import type { JobTypeRegistry } from '../job-types/registry.ts';
import { checkPriority, type JobLimits } from '../jobs/job-limits.ts';
import { checkParams, knownType } from '../jobs/job-params.ts';
import type { OwnerRights } from '../owners/owner-rights.ts';
import { checkCron, checkTimezone, nextTick } from './cron.ts';
import type { OwnedScheduleRow, ScheduleRow, SchedulesRepository } from './schedules.repository.ts';
import type { CreateScheduleBody, ListSchedulesQuery, Schedule, ScheduleList } from './schedules.schemas.ts';

const WHAT = 'schedule';
const DEFAULT_PRIORITY = 50;

export interface SchedulesServiceDeps {
  repository: SchedulesRepository;
  types: JobTypeRegistry;
  /** Least time between two ticks a schedule may ask for. */
  minIntervalMs: number;
  /** Schedules one user may own. */
  perOwner: number;
  /** The job template's priority is held to the creator's cap, as a job's is. */
  limits: JobLimits;
  /** A schedule resumes only if its owner could run its ticks now. */
  owners: OwnerRights;
}

const iso = (date: Date | null): string | null => date?.toISOString() ?? null;

export function toSchedule(row: ScheduleRow): Schedule {
  return {
    id: row.id,
    owner_id: row.owner_id,
    name: row.name,
    cron: row.cron,
    timezone: row.timezone,
    job: { type: row.job_type, params: row.job_params, priority: row.job_priority },
    visibility: row.visibility,
    paused: row.paused,
    paused_reason: row.paused_reason,
    next_run_at: iso(row.next_run_at),
    last_run_at: iso(row.last_run_at),
    last_job_id: row.last_job_id,
    last_skip_reason: row.last_skip_reason,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

function ownership(row: ScheduleRow | undefined): OwnedResource | undefined {
  return row && { ownerId: row.owner_id, visibility: row.visibility };
}

/** Schedules: owned like jobs, readable by others when shared; each tick's job belongs to the owner. */
export function createSchedulesService(deps: SchedulesServiceDeps) {
  const { repository } = deps;

  async function manageable(principal: Principal, id: string): Promise<OwnedScheduleRow> {
    const row = await repository.findById(id);
    assertCanManage(principal, ownership(row), WHAT);
    return row!;
  }

  const firstTick = (row: Pick<ScheduleRow, 'cron' | 'timezone' | 'id'>): Date => {
    const tick = nextTick(row.cron, row.timezone, row.id, new Date());
    if (!tick) throw new AppError('conflict', `The schedule "${row.cron}" never fires again`);
    return tick;
  };

  return {
    async create(principal: Principal, body: CreateScheduleBody): Promise<Schedule> {
      assertCanCreate(principal, WHAT);
      const type = knownType(deps.types, body.job.type, '/body/job/type');
      const params = checkParams(type, body.job.params ?? {}, '/body/job/params');
      const priority = body.job.priority ?? DEFAULT_PRIORITY;
      checkPriority(deps.limits, principal.role, priority, '/body/job/priority');
      const timezone = body.timezone ?? 'UTC';
      checkTimezone(timezone, '/body/timezone');
      const id = randomUUID();
      checkCron(body.cron, timezone, id, deps.minIntervalMs);
      const schedule = {
        id,
        owner: principal,
        name: body.name,
        cron: body.cron,
        timezone,
        jobType: type.type,
        jobParams: params,
        jobPriority: priority,
        visibility: body.visibility ?? 'private',
        nextRunAt: body.paused === true ? undefined : firstTick({ id, cron: body.cron, timezone }),
      };
      const row = await repository.insertUnderLimit(schedule, deps.perOwner);
      if (!row)
        throw new AppError('conflict', `You have ${deps.perOwner} schedules, the most one user may have`, {
          extensions: { limit: deps.perOwner },
        });
      return toSchedule(row);
    },

    async list(principal: Principal, query: ListSchedulesQuery): Promise<ScheduleList> {
      const everyone = principal.role === 'admin' && query.owner !== 'me';
      const { rows, total } = await repository.list(
        everyone ? undefined : principal.userId,
        query.owner === 'me',
        query.limit,
        query.offset,
      );
      return { schedules: rows.map(toSchedule), total };
    },

    async get(principal: Principal, id: string): Promise<Schedule> {
      const row = await repository.findById(id);
      assertCanRead(principal, ownership(row), WHAT);
      return toSchedule(row!);
    },

    async pause(principal: Principal, id: string): Promise<Schedule> {
      await manageable(principal, id);
      const row = await repository.pause(id);
      if (!row) throw new AppError('conflict', 'The schedule is paused already');
      return toSchedule(row);
    },

    /**
     * Runs on from the next tick after now: ticks that passed while paused are skipped. Refused
     * while its ticks could not run (its owner disabled or a viewer now, its API key revoked).
     */
    async resume(principal: Principal, id: string): Promise<Schedule> {
      const before = await manageable(principal, id);
      // Asked anew: whoever resumes it may have just enabled its owner again.
      const verdict = await deps.owners.check(before.owner, { fresh: true });
      if (!verdict.allowed) throw new AppError('conflict', `The schedule cannot resume: ${verdict.reason}`);
      const row = await repository.resume(id, firstTick(before));
      if (!row) throw new AppError('conflict', 'The schedule is not paused');
      return toSchedule(row);
    },

    async delete(principal: Principal, id: string): Promise<void> {
      await manageable(principal, id);
      await repository.delete(id);
    },
  };
}

export type SchedulesService = ReturnType<typeof createSchedulesService>;
