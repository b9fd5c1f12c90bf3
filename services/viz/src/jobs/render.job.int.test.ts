import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PermanentJobError,
  type Database,
  type JobContext,
  type JobType,
  type Principal,
} from '@datalab/platform';
import { silentLogger, testDatabase, testEnv } from '../../../../test/helpers.ts';
import { callAs, person } from '../../../../test/internal.ts';
import { startVizStack, uploadCsv, type VizStack } from '../render/render.test-fixtures.ts';
import { vizJobTypes } from './render.job.ts';

let stack: VizStack;
let db: Database;
let job: JobType;
const owner = person('editor');

/** One attempt of the job as the compute engine would run it. */
function attempt(params: unknown, as: Principal, jobId = randomUUID()) {
  const steps: number[] = [];
  const context: JobContext<unknown> = {
    jobId,
    params,
    owner: as,
    attempt: 1,
    signal: new AbortController().signal,
    progress: async (percent) => void steps.push(percent),
    log: async () => undefined,
  };
  return {
    run: () => job.handler(context) as Promise<{ export_id: string; url: string; content_type: string }>,
    steps,
  };
}

beforeAll(async () => {
  stack = await startVizStack();
  db = await testDatabase();
  const env = testEnv({ VIZ_DATA_SERVICE_URL: stack.data.url });
  [job] = vizJobTypes({
    env,
    common: stack.platform.common,
    db,
    adapters: stack.platform.adapters,
    logger: silentLogger,
    internalKeys: stack.platform.internalKeys,
  }) as [JobType];
});
afterAll(async () => {
  await db.close();
  await stack.close();
});

async function saveChart(dataset: string): Promise<string> {
  const spec = { data: { dataset }, mark: 'bar', encoding: { x: { field: 'city' }, y: { field: 'rain' } } };
  const response = await callAs(stack.platform, stack.viz, owner, '/api/v1/viz/charts', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'rain', spec }),
  });
  return ((await response.json()) as { id: string }).id;
}

describe('the render job', () => {
  it('renders a chart as its owner, stores it, links it, and gives the same export when run again', async () => {
    const dataset = await uploadCsv(stack, owner, 'city,rain\nLyon,831\nBrest,1210\n');
    const chartId = await saveChart(dataset.name);
    const jobId = randomUUID();
    const first = attempt({ chart_id: chartId, format: 'png', width: 400, scale: 1 }, owner, jobId);
    const result = await first.run();
    expect(result).toMatchObject({
      content_type: 'image/png',
      url: `/api/v1/viz/exports/${result.export_id}`,
    });
    expect(first.steps).toEqual([10, 90]);
    expect(
      (await attempt({ chart_id: chartId, format: 'png', scale: 1 }, owner, jobId).run()).export_id,
    ).toBe(result.export_id);

    const download = await callAs(stack.platform, stack.viz, owner, result.url);
    expect(download.status).toBe(200);
    expect((await sharp(Buffer.from(await download.arrayBuffer())).metadata()).width).toBe(400);
    expect((await callAs(stack.platform, stack.viz, person('editor'), result.url)).status).toBe(404);
  });

  it('fails for good on a chart the owner may not read', async () => {
    const chartId = await saveChart((await uploadCsv(stack, owner, 'city,rain\nLyon,1\n')).name);
    await expect(
      attempt({ chart_id: chartId, format: 'pdf', scale: 1 }, person('editor')).run(),
    ).rejects.toBeInstanceOf(PermanentJobError);
  });
});
