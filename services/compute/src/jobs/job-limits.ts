import { AppError, type ConfigOf, type Principal, type Role } from '@datalab/platform';
import type { computeConfigSchema } from '../config.ts';

type CreatorRole = Exclude<Role, 'viewer'>;

/** How much of the queue one user may take, by the role they act with (viewers submit no jobs). */
export interface JobLimits {
  /** Queued and running jobs one user may have at once. */
  quota: Record<CreatorRole, number>;
  /** The highest priority a job may be given. */
  priorityMax: Record<CreatorRole, number>;
}

export function jobLimitsFrom(config: ConfigOf<typeof computeConfigSchema>): JobLimits {
  return {
    quota: { editor: config.jobQuotaEditor, admin: config.jobQuotaAdmin },
    priorityMax: { editor: config.jobPriorityMaxEditor, admin: config.jobPriorityMaxAdmin },
  };
}

const allowance = (table: Record<CreatorRole, number>, role: Role): number =>
  role === 'viewer' ? 0 : table[role];

/** 403 naming the cap (and `field`) when `role` may not give a job this priority. */
export function checkPriority(limits: JobLimits, role: Role, priority: number, field: string): void {
  const max = allowance(limits.priorityMax, role);
  if (priority <= max) return;
  throw new AppError(
    'forbidden',
    `Priority ${priority} is more than ${role}s may give a job: at most ${max}`,
    {
      errors: [{ field, message: `must be at most ${max} for ${role}s` }],
      extensions: { priority_max: max },
    },
  );
}

/** The highest priority `role` may run a job at: a schedule's job keeps within its owner's current cap. */
export const priorityCapOf = (limits: JobLimits, role: Role): number => allowance(limits.priorityMax, role);

/** 429 naming the quota and the owner's count, for `adding` more jobs than `role`'s quota leaves room for. */
function overQuota(role: Role, quota: number, count: number, adding: number): AppError {
  return new AppError(
    'rate_limited',
    `${count} of your jobs are queued or running, and ${adding} more would pass the quota: ${role}s may have at most ${quota} at once. Wait for some to finish, or cancel some.`,
    { extensions: { quota, count } },
  );
}

/** Refuses `adding` more jobs for an owner who has `count` queued or running, past what `role` allows. */
export function checkQuota(limits: JobLimits, role: Role, count: number, adding: number): void {
  const quota = allowance(limits.quota, role);
  if (count + adding > quota) throw overQuota(role, quota, count, adding);
}

/**
 * Judges jobs one by one, in order, against their owners' counts (which it advances for each job
 * let through): each job, or the refusal of it. `counts` must come from the owners' locked rows.
 */
export function admitEach<J extends { owner: Principal }>(
  limits: JobLimits,
  jobs: readonly J[],
  counts: Map<string, number>,
): (J | AppError)[] {
  return jobs.map((job) => {
    const count = counts.get(job.owner.userId) ?? 0;
    try {
      checkQuota(limits, job.owner.role, count, 1);
    } catch (error) {
      return error as AppError;
    }
    counts.set(job.owner.userId, count + 1);
    return job;
  });
}
