import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DATASETS,
  contractSuite,
  created,
  fresh,
  jsonOf,
  refusal,
  rowsOf,
  runJob,
  type Caller,
  type DatasetView,
  type Job,
} from './http.contract-fixtures.ts';
import { serveFiles } from './files.contract-fixtures.ts';

const JOBS = '/api/v1/compute/jobs';

/** Files an `import-url` job fetches: path → content type and body. */
const FILES: Record<string, [string, string]> = {
  '/cities.csv': ['text/csv', 'city,people\nLyon,522250\nNantes,320732\n'],
  '/events': [
    'application/x-ndjson',
    '{"at":"2024-01-01T10:00:00Z","n":1}\n{"at":"2024-01-02T10:00:00Z","n":2}\n',
  ],
  '/bad.csv': ['text/csv', 'a,b\n1,2\n3\n4,5\n'],
  '/some-bad.csv': ['text/csv', 'a,b\n1,2\n3\n4,5\n'],
};

interface JobDataset {
  dataset_id: string;
  name: string;
  row_count: number;
  columns: { name: string; original_name: string; type: string }[];
  url: string;
}

describe('data jobs through the compute API: sql, transform and import-url', () => {
  // The file server runs on this machine, which import-url refuses unless told otherwise.
  const { owner, viewer, stranger } = contractSuite(
    { owner: 'editor', viewer: 'viewer', stranger: 'editor' },
    { DATA_IMPORT_ALLOW_PRIVATE: 'true' },
  );
  let files: Awaited<ReturnType<typeof serveFiles>> | undefined;
  let filesUrl: string;
  let orders: DatasetView;

  beforeAll(async () => {
    files = await serveFiles(FILES);
    filesUrl = files.url;
    const csv = 'id,region,amount\n1,north,10\n2,south,20\n3,north,5\n4,east,7\n';
    orders = (await created(owner, csv, 'orders.csv', { name: fresh('orders') })).dataset;
  });
  afterAll(() => files?.close());

  /** The job succeeded and made a dataset of its owner's: the dataset as GET answers it. */
  async function madeDataset(job: Job, caller: Caller): Promise<DatasetView> {
    expect({ state: job.state, error: job.error, owner: job.owner_id }).toEqual({
      state: 'succeeded',
      error: null,
      owner: caller.id,
    });
    const result = job.result as unknown as JobDataset;
    expect(result.url).toBe(`${DATASETS}/${result.dataset_id}`);
    const dataset = await jsonOf<DatasetView>(await caller.call(result.url));
    expect(result).toEqual({
      dataset_id: dataset.id,
      name: dataset.name,
      row_count: dataset.row_count,
      columns: dataset.columns,
      url: result.url,
    });
    expect({ owner: dataset.owner_id, version: dataset.version }).toEqual({ owner: caller.id, version: 1 });
    return dataset;
  }

  /** The job failed for good on its first attempt, with a message containing `detail`. */
  function failed(job: Job, detail: string): void {
    expect({ state: job.state, attempts: job.attempts, result: job.result }).toEqual({
      state: 'failed',
      attempts: 1,
      result: null,
    });
    expect(job.error?.message).toContain(detail);
  }

  it('runs a `sql` job into a new private dataset of its owner, with the answer’s rows and types', async () => {
    const name = fresh('by_region');
    const job = await runJob(owner, 'sql', {
      sql: `SELECT region, sum(amount) AS total, count(*) AS orders FROM ${orders.name} GROUP BY region`,
      name,
      description: 'totals per region',
    });
    const dataset = await madeDataset(job, owner);
    expect(dataset).toMatchObject({
      name,
      description: 'totals per region',
      visibility: 'private',
      row_count: 3,
      source_format: 'query',
      columns: [
        { name: 'region', original_name: 'region', type: 'text' },
        {
          name: 'total',
          original_name: 'total',
          type: expect.stringMatching(/^(integer|float)$/) as unknown,
        },
        { name: 'orders', original_name: 'orders', type: 'integer' },
      ],
    });
    expect(await rowsOf(owner, `SELECT region, total, orders FROM ${name} ORDER BY region`)).toEqual([
      ['east', 7, 1],
      ['north', 15, 2],
      ['south', 20, 1],
    ]);
    const versions = await jsonOf<{ versions: { version: number; mode: string; rows_written: number }[] }>(
      await owner.call(`${DATASETS}/${name}/versions`),
    );
    expect(versions.versions).toMatchObject([
      { version: 1, mode: 'create', rows_written: 3, created_by: owner.id },
    ]);
    await refusal(await stranger.call(`${DATASETS}/${dataset.id}`), 404, 'Dataset not found');
    await refusal(await stranger.call(`${JOBS}/${job.id}`), 404, 'not found');
  });

  it('names a job’s dataset after the job when no name is given, and shares it when asked', async () => {
    const job = await runJob(owner, 'sql', { sql: `SELECT id FROM ${orders.name}`, visibility: 'shared' });
    const dataset = await madeDataset(job, owner);
    expect(dataset.name).toMatch(/^sql_[0-9a-f]+$/);
    expect(dataset.visibility).toBe('shared');
    expect(await rowsOf(viewer, `SELECT count(*) FROM ${dataset.name}`)).toEqual([[4]]);
  });

  it.each([
    ['an unknown column', (orders: string) => `SELECT nope FROM ${orders}`, 'column "nope"'],
    ['a statement that writes', (orders: string) => `DELETE FROM ${orders}`, 'DELETE'],
    [
      'an unknown dataset',
      () => 'SELECT 1 FROM no_such_dataset_here',
      'Dataset "no_such_dataset_here" not found',
    ],
  ])('fails a `sql` job with %s at once, writing nothing', async (_label, sql, detail) => {
    const name = fresh('never');
    failed(await runJob(owner, 'sql', { sql: sql(orders.name), name }), detail);
    await refusal(await owner.call(`${DATASETS}/${name}`), 404, 'Dataset not found');
    expect(await rowsOf(owner, `SELECT count(*) FROM ${orders.name}`)).toEqual([[4]]);
  });

  it('fails a `sql` job reading a dataset its owner may not read, as if it did not exist', async () => {
    const name = fresh('stolen');
    failed(
      await runJob(stranger, 'sql', { sql: `SELECT * FROM ${orders.name}`, name }),
      `"${orders.name}" not found`,
    );
    await refusal(await stranger.call(`${DATASETS}/${name}`), 404, 'Dataset not found');
  });

  it('fails a job whose dataset name is taken, and leaves that dataset alone', async () => {
    failed(
      await runJob(owner, 'sql', { sql: 'SELECT 1 AS one', name: orders.name }),
      `"${orders.name}" exists already`,
    );
    expect(await jsonOf<DatasetView>(await owner.call(`${DATASETS}/${orders.id}`))).toEqual(orders);
  });

  it('runs a `transform` job: filter, derive, select with rename and sort, into a new dataset', async () => {
    const name = fresh('transformed');
    const job = await runJob(owner, 'transform', {
      dataset: orders.name,
      name,
      steps: [
        { op: 'filter', where: 'amount >= 7' },
        { op: 'derive', columns: { doubled: 'amount * 2', big: 'amount > 8' } },
        { op: 'select', columns: ['id', 'region', 'doubled', 'big'], rename: { region: 'area' } },
        { op: 'sort', by: [{ column: 'doubled', descending: true }] },
      ],
    });
    const dataset = await madeDataset(job, owner);
    expect(dataset.columns.map((c) => [c.name, c.type])).toEqual([
      ['id', 'integer'],
      ['area', 'text'],
      ['doubled', 'integer'],
      ['big', 'boolean'],
    ]);
    expect(await rowsOf(owner, `SELECT id, area, doubled, big FROM ${name} ORDER BY doubled DESC`)).toEqual([
      [2, 'south', 40, true],
      [1, 'north', 20, true],
      [4, 'east', 14, false],
    ]);
  });

  it('runs a `transform` job that joins another dataset and appends a third', async () => {
    const managers = await created(owner, 'region,manager\nnorth,Ana\nsouth,Bo\n', 'm.csv', {
      name: fresh('managers'),
    });
    const more = await created(owner, 'id,region,amount,manager\n9,west,1,Cy\n', 'more.csv', {
      name: fresh('more'),
    });
    const name = fresh('joined');
    const job = await runJob(owner, 'transform', {
      dataset: orders.id,
      name,
      steps: [
        {
          op: 'join',
          dataset: managers.dataset.name,
          on: [{ left: 'region', right: 'region' }],
          how: 'left',
        },
        { op: 'union', dataset: more.dataset.name },
      ],
    });
    await madeDataset(job, owner);
    expect(await rowsOf(owner, `SELECT id, region, amount, manager FROM ${name} ORDER BY id`)).toEqual([
      [1, 'north', 10, 'Ana'],
      [2, 'south', 20, 'Bo'],
      [3, 'north', 5, 'Ana'],
      [4, 'east', 7, null],
      [9, 'west', 1, 'Cy'],
    ]);
  });

  it('fails a `transform` job whose expression names an unknown column, writing nothing', async () => {
    const name = fresh('never');
    const job = await runJob(owner, 'transform', {
      dataset: orders.name,
      name,
      steps: [{ op: 'filter', where: 'nope > 1' }],
    });
    failed(job, 'nope');
    await refusal(await owner.call(`${DATASETS}/${name}`), 404, 'Dataset not found');
  });

  it('imports a CSV from a URL into a new dataset, its format told by the file name', async () => {
    const name = fresh('imported');
    const dataset = await madeDataset(
      await runJob(owner, 'import-url', { url: `${filesUrl}/cities.csv`, name }),
      owner,
    );
    expect(dataset).toMatchObject({ name, source_format: 'csv', row_count: 2 });
    expect(await rowsOf(owner, `SELECT city, people FROM ${name} ORDER BY people`)).toEqual([
      ['Nantes', 320732],
      ['Lyon', 522250],
    ]);
  });

  it('imports NDJSON from a URL whose format only the content type tells', async () => {
    const name = fresh('events');
    const dataset = await madeDataset(
      await runJob(owner, 'import-url', { url: `${filesUrl}/events`, name }),
      owner,
    );
    expect(dataset.source_format).toBe('ndjson');
    expect(dataset.columns.map((c) => [c.name, c.type])).toEqual([
      ['at', 'timestamp'],
      ['n', 'integer'],
    ]);
    expect(await rowsOf(owner, `SELECT n FROM ${name} ORDER BY n`)).toEqual([[1], [2]]);
  });

  it('fails an import of a file with a bad row, naming the line, unless told to skip bad rows', async () => {
    const name = fresh('never');
    failed(await runJob(owner, 'import-url', { url: `${filesUrl}/bad.csv`, name }), 'line 3');
    await refusal(await owner.call(`${DATASETS}/${name}`), 404, 'Dataset not found');

    const skipped = fresh('skipped');
    const job = await runJob(owner, 'import-url', {
      url: `${filesUrl}/some-bad.csv`,
      name: skipped,
      on_error: 'skip',
    });
    const dataset = await madeDataset(job, owner);
    expect(dataset.row_count).toBe(2);
    const versions = await jsonOf<{ versions: { rows_written: number; rows_rejected: number }[] }>(
      await owner.call(`${DATASETS}/${skipped}/versions`),
    );
    expect(versions.versions).toMatchObject([{ rows_written: 2, rows_rejected: 1 }]);
  });

  it('fails an import whose URL does not answer 200, saying what it answered', async () => {
    const name = fresh('never');
    failed(await runJob(owner, 'import-url', { url: `${filesUrl}/missing.csv`, name }), '404');
    await refusal(await owner.call(`${DATASETS}/${name}`), 404, 'Dataset not found');
  });

  it.each([
    ['sql', {}, '/body/params'],
    ['sql', { sql: 'SELECT 1', nope: 1 }, '/body/params/nope'],
    ['sql', { sql: 'SELECT 1', name: 'Not A Name' }, '/body/params/name'],
    ['transform', { dataset: 'x', steps: [] }, '/body/params/steps'],
    ['transform', { dataset: 'x', steps: [{ op: 'explode' }] }, '/body/params/steps/0'],
    ['import-url', { url: 'file:///etc/passwd' }, '/body/params/url'],
  ])('refuses a `%s` job with params %j, naming %s, and queues nothing', async (type, params, field) => {
    const before = await jsonOf<{ jobs: unknown[] }>(await owner.call(`${JOBS}?type=${type}&limit=500`));
    const problem = await refusal(await owner.send('POST', JOBS, { type, params }), 400, 'Params do not fit');
    expect((problem.errors as { field: string }[]).map((e) => e.field)).toContain(field);
    const after = await jsonOf<{ jobs: unknown[] }>(await owner.call(`${JOBS}?type=${type}&limit=500`));
    expect(after.jobs).toHaveLength(before.jobs.length);
  });

  it('refuses jobs from a viewer', async () => {
    for (const [type, params] of [
      ['sql', { sql: 'SELECT 1' }],
      ['transform', { dataset: orders.name, steps: [{ op: 'filter', where: 'true' }] }],
      ['import-url', { url: `${filesUrl}/cities.csv` }],
    ] as const) {
      await refusal(await viewer.send('POST', JOBS, { type, params }), 403, 'Viewers');
    }
  });
});
