import { describe, expect, it } from 'vitest';
import { AppError, type Principal } from '@datalab/platform';
import { admitEach, checkPriority, checkQuota, type JobLimits } from './job-limits.ts';

const limits: JobLimits = { quota: { editor: 2, admin: 4 }, priorityMax: { editor: 80, admin: 100 } };
const refusal = (run: () => void): AppError => {
  try {
    run();
  } catch (error) {
    return error as AppError;
  }
  throw new Error('not refused');
};

describe('job limits by role', () => {
  it('refuse a priority above the role’s cap with 403 naming the cap and the field', () => {
    expect(() => checkPriority(limits, 'editor', 80, '/body/priority')).not.toThrow();
    const refused = refusal(() => checkPriority(limits, 'editor', 81, '/body/jobs/3/priority'));
    expect(refused).toMatchObject({
      kind: 'forbidden',
      errors: [{ field: '/body/jobs/3/priority', message: 'must be at most 80 for editors' }],
      extensions: { priority_max: 80 },
    });
    expect(() => checkPriority(limits, 'admin', 100, '/body/priority')).not.toThrow();
  });

  it('refuse jobs past the role’s quota with 429 naming the quota and the count', () => {
    expect(() => checkQuota(limits, 'editor', 1, 1)).not.toThrow();
    const refused = refusal(() => checkQuota(limits, 'editor', 1, 2));
    expect(refused).toMatchObject({ kind: 'rate_limited', extensions: { quota: 2, count: 1 } });
    expect(refused.message).toContain('at most 2');
    expect(() => checkQuota(limits, 'admin', 1, 3)).not.toThrow();
  });

  it('admit jobs in order while their owner has room, each by its own submitter’s role', () => {
    const ed: Principal = { kind: 'user', userId: 'u1', email: 'e@example.test', role: 'editor' };
    const jobs = [{ owner: ed }, { owner: ed }, { owner: { ...ed, role: 'admin' as const } }, { owner: ed }];
    const counts = new Map([['u1', 1]]);
    const admitted = admitEach(limits, jobs, counts);
    expect(admitted.map((job) => (job instanceof AppError ? job.kind : 'admitted'))).toEqual([
      'admitted',
      'rate_limited',
      'admitted',
      'rate_limited',
    ]);
    expect(counts.get('u1')).toBe(3);
  });
});
