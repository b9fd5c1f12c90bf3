import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '@datalab/contracts';
import { person } from '../../../../test/internal.ts';
import {
  JOBS,
  readVersion,
  rowsOf,
  runJob,
  startDataJobs,
  uploadCsv,
  type DataJobs,
} from './jobs.test-fixtures.ts';
import type { OutputResult } from './job-output.ts';

let jobs: DataJobs;
const alice = person('editor');
const bob = person('editor');
let orders: string;
let customers: string;
let moreOrders: string;
let secret: string;

const ORDERS =
  'id,customer,amount,region\n1,10,5.5,north\n2,11,20,south\n3,10,7,south\n4,12,1,north\n5,13,3,east\n';

beforeAll(async () => {
  jobs = await startDataJobs();
  orders = (await uploadCsv(jobs, alice, ORDERS)).name;
  customers = (await uploadCsv(jobs, alice, 'id,name,tier\n10,Ada,gold\n11,Bo,silver\n12,Cy,gold\n')).name;
  moreOrders = (await uploadCsv(jobs, alice, 'region,amount,id,customer\nwest,2,6,11\n')).name;
  secret = (await uploadCsv(jobs, bob, 'id,note\n10,private\n')).name;
});
afterAll(async () => jobs?.close());

async function transform(steps: object[], extra: object = {}): Promise<OutputResult> {
  const job = await runJob(jobs, alice, 'transform', { dataset: orders, steps, ...extra });
  expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
  return job.result as OutputResult;
}

describe('the transform job', () => {
  it('filters, derives, selects with renames and sorts', async () => {
    const out = await transform([
      { op: 'filter', where: "amount > 2 AND region <> 'east'" },
      { op: 'derive', columns: { with_tax: 'round((amount * 1.25)::numeric, 2)', region: 'upper(region)' } },
      { op: 'select', columns: ['id', 'region', 'with_tax'], rename: { with_tax: 'gross' } },
      { op: 'sort', by: [{ column: 'gross', descending: true }] },
    ]);
    const rows = await rowsOf(jobs, alice, out.name, 'id, region, gross');
    expect(rows.rows).toEqual([
      [2, 'SOUTH', 25],
      [3, 'SOUTH', 8.75],
      [1, 'NORTH', 6.88],
    ]);
    // The version's Parquet file holds the rows in that order, as DuckDB reads it.
    const version = await readVersion(jobs, out.dataset_id);
    expect(version.columns.map((c) => c.duckdbType)).toEqual(['BIGINT', 'VARCHAR', 'DOUBLE']);
    expect(version.rows).toEqual(rows.rows);
  });

  it('sorts nulls as larger than any value: last ascending, first descending', async () => {
    const joined = [{ op: 'join', dataset: customers, on: [{ left: 'customer', right: 'id' }], how: 'left' }];
    const ascending = await transform([
      ...joined,
      { op: 'sort', by: [{ column: 'name' }, { column: 'id' }] },
    ]);
    expect((await readVersion(jobs, ascending.dataset_id)).rows.map((row) => row[4])).toEqual([
      'Ada',
      'Ada',
      'Bo',
      'Cy',
      null,
    ]);
    const descending = await transform([
      ...joined,
      { op: 'sort', by: [{ column: 'name', descending: true }, { column: 'id' }] },
    ]);
    expect((await readVersion(jobs, descending.dataset_id)).rows.map((row) => row[4])).toEqual([
      null,
      'Cy',
      'Bo',
      'Ada',
      'Ada',
    ]);
  });

  it('takes expressions in DuckDB’s SQL, as the query API does', async () => {
    const out = await transform([
      { op: 'derive', columns: { initial: 'upper(region[1])', pair: '[id, customer]' } },
      { op: 'select', columns: ['id', 'initial', 'pair'] },
      { op: 'sort', by: [{ column: 'id' }] },
    ]);
    expect(out.columns.map((c) => [c.name, c.type])).toEqual([
      ['id', 'integer'],
      ['initial', 'text'],
      ['pair', 'json'],
    ]);
    expect((await readVersion(jobs, out.dataset_id)).rows.slice(0, 2)).toEqual([
      [1, 'N', '[1,10]'],
      [2, 'S', '[2,11]'],
    ]);
  });

  it('joins another dataset (renaming a clashing column) and appends a union by column name', async () => {
    const out = await transform([
      { op: 'union', dataset: moreOrders },
      { op: 'join', dataset: customers, on: [{ left: 'customer', right: 'id' }], how: 'left' },
      { op: 'sort', by: [{ column: 'id' }] },
    ]);
    expect(out.columns.map((c) => c.name)).toEqual(['id', 'customer', 'amount', 'region', 'name', 'tier']);
    const rows = await rowsOf(jobs, alice, out.name, 'id, region, name, tier');
    expect(rows.rows).toEqual([
      [1, 'north', 'Ada', 'gold'],
      [2, 'south', 'Bo', 'silver'],
      [3, 'south', 'Ada', 'gold'],
      [4, 'north', 'Cy', 'gold'],
      [5, 'east', null, null],
      [6, 'west', 'Bo', 'silver'],
    ]);

    const clash = await transform([
      { op: 'join', dataset: customers, on: [{ left: 'customer', right: 'id' }], columns: ['id', 'tier'] },
      { op: 'sort', by: [{ column: 'id' }] },
    ]);
    expect(clash.columns.map((c) => c.name)).toEqual([
      'id',
      'customer',
      'amount',
      'region',
      'id_right',
      'tier',
    ]);
  });

  it('pivots one column’s values into columns of an aggregate', async () => {
    const out = await transform([
      { op: 'join', dataset: customers, on: [{ left: 'customer', right: 'id' }] },
      { op: 'pivot', index: ['tier'], column: 'region', value: 'amount', aggregate: 'sum' },
    ]);
    expect(out.columns.map((c) => c.name)).toEqual(['tier', 'north', 'south']);
    const rows = await rowsOf(jobs, alice, out.name, 'tier, north, south');
    expect(rows.rows).toEqual([
      ['gold', 6.5, 7],
      ['silver', null, 20],
    ]);
  });

  it('samples and splits repeatably: the same seed picks the same rows, train and test cover every row once', async () => {
    const sample = [
      { op: 'sample', rows: 3, seed: 's1' },
      { op: 'sort', by: [{ column: 'id' }] },
    ];
    const first = await rowsOf(jobs, alice, (await transform(sample)).name, 'id');
    const second = await rowsOf(jobs, alice, (await transform(sample)).name, 'id');
    expect(first.rows).toHaveLength(3);
    expect(second.rows).toEqual(first.rows);

    const labelled = await transform([
      { op: 'split', train: 0.6, seed: 'x' },
      { op: 'sort', by: [{ column: 'id' }] },
    ]);
    const labels = (await rowsOf(jobs, alice, labelled.name, 'id, split')).rows;
    expect(labels).toHaveLength(5);
    expect(new Set(labels.map(([, label]) => label))).toEqual(new Set(['train', 'test']));
    const test = await transform([
      { op: 'split', train: 0.6, seed: 'x', keep: 'test' },
      { op: 'sort', by: [{ column: 'id' }] },
    ]);
    const testIds = (await rowsOf(jobs, alice, test.name, 'id')).rows.map(([id]) => id);
    expect(testIds).toEqual(labels.filter(([, label]) => label === 'test').map(([id]) => id));
  });

  it("refuses to read what the owner may not: another user's dataset, tables in expressions", async () => {
    const join = await runJob(jobs, alice, 'transform', {
      dataset: orders,
      steps: [{ op: 'join', dataset: secret, on: [{ left: 'customer', right: 'id' }] }],
    });
    expect(join.state).toBe('failed');
    expect(join.error?.message).toMatch(/params\.steps\[0\]\.dataset.*not found/);

    const sneaky = await runJob(jobs, alice, 'transform', {
      dataset: orders,
      steps: [{ op: 'derive', columns: { leak: `(SELECT note FROM ${secret} LIMIT 1)` } }],
    });
    expect(sneaky.state).toBe('failed');
    expect(sneaky.error?.message).toMatch(/params\.steps\[0\]\.columns\.leak/);

    const escape = await runJob(jobs, alice, 'transform', {
      dataset: orders,
      steps: [{ op: 'filter', where: 'true) AS x, auth.users AS u WHERE (true' }],
    });
    expect(escape.state).toBe('failed');
    expect(escape.error?.message).toMatch(/params\.steps\[0\]\.where/);

    const unknownColumn = await runJob(jobs, alice, 'transform', {
      dataset: orders,
      steps: [{ op: 'select', columns: ['nope'] }],
    });
    expect(unknownColumn.error?.message).toMatch(
      /params\.steps\[0\]\.columns\[0\]: there is no column "nope"/,
    );
  });

  it('refuses a step that fits no schema with 400 naming it', async () => {
    const answer = await jobs.call<Problem>(alice, jobs.compute, 'POST', JOBS, {
      type: 'transform',
      params: { dataset: orders, steps: [{ op: 'filter' }] },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.map((e) => e.field)).toContain('/body/params/steps/0');
  });
});
