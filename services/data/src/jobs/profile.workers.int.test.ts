import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { person } from '../../../../test/internal.ts';
import { queryOnce, spawnTs, type Spawned } from '../../../../test/processes.ts';
import type { DatasetProfile } from '../browse/browse.schemas.ts';
import { runJob, startDataJobs, uploadCsv, type DataJobs } from './jobs.test-fixtures.ts';

const redisUrl = inject('redisUrl');
const owner = person('editor');

/** Numbers with repeats and nulls, and text: enough for every statistic to show. */
function csv(rows: number): string {
  const lines = ['k,v,label'];
  for (let i = 1; i <= rows; i++)
    lines.push(`${i % 9 === 0 ? '' : (i * 31) % 97},${((i * 13) % 200) / 4},w${(i * i) % 23}`);
  return `${lines.join('\n')}\n`;
}

describe.skipIf(!redisUrl)('a profile fanned out to `datalab worker` processes', () => {
  let jobs: DataJobs;
  const workers: Spawned[] = [];

  beforeAll(async () => {
    // The compute-service only dispatches (BullMQ on Redis); the workers run every job, the user SQL
    // on the restricted query login, as in a distributed deployment.
    jobs = await startDataJobs({ REDIS_URL: redisUrl, WORKER_CONCURRENCY: '1', JOB_LEASE_MS: '5000' });
    for (let i = 0; i < 2; i++)
      workers.push(spawnTs('packages/cli/src/main.ts', ['worker'], { ...jobs.env, LOG_LEVEL: 'warn' }));
    const deadline = Date.now() + 60_000;
    while ((await queryOnce(jobs.databaseUrl, 'SELECT id FROM compute.workers')).length < 2) {
      for (const worker of workers)
        if (worker.child.exitCode !== null) throw new Error(`worker exited early:\n${worker.output()}`);
      if (Date.now() > deadline)
        throw new Error(`the workers did not start:\n${workers.map((w) => w.output()).join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });
  afterAll(async () => {
    for (const worker of workers) {
      if (worker.child.exitCode === null) worker.child.kill('SIGTERM');
      await worker.exited;
    }
    await jobs?.close();
  });

  it('runs the partitions on the workers and merges them into the single-pass profile', async () => {
    const dataset = await uploadCsv(jobs, owner, csv(2000));
    const single = await jobs.call<DatasetProfile>(
      owner,
      jobs.data,
      'GET',
      `/api/v1/data/datasets/${dataset.id}/profile`,
    );
    const job = await runJob(jobs, owner, 'profile', { dataset: dataset.name, partitions: 4 }, 60_000);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    const merged = (job.result as { profile: DatasetProfile }).profile;
    const round = (x: number | null) => (x === null ? null : Number(x.toPrecision(12)));
    const comparable = ({ columns, row_count }: Pick<DatasetProfile, 'columns' | 'row_count'>) => ({
      row_count,
      columns: columns.map((c) => ({ ...c, mean: round(c.mean), stddev: round(c.stddev) })),
    });
    expect(comparable(merged)).toEqual(comparable(single.body));

    const ran = await queryOnce(
      jobs.databaseUrl,
      `SELECT worker_id, state FROM compute.jobs WHERE type = 'profile-partition' AND params->>'parent' = '${job.id}'`,
    );
    expect(ran).toHaveLength(8);
    expect(ran.every((row) => row.state === 'succeeded')).toBe(true);
    const ids = new Set(ran.map((row) => row.worker_id));
    expect(ids.size, `partitions ran on ${[...ids].join(', ')}`).toBe(2);
  });
});
