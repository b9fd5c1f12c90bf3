import { afterAll, beforeAll, expect } from 'vitest';
import { person } from '../../../../test/internal.ts';
import { queryOnce } from '../../../../test/processes.ts';
import type { ColumnProfile, DatasetProfile } from './browse.schemas.ts';
import {
  startBrowseService,
  type BrowseService,
  type DatasetFixture,
  type FixtureColumn,
  type FixtureRows,
} from './browse.test-fixtures.ts';

/** A small table whose statistics are known, reference statistics, and a profile test harness. */

export const SMALL_COLUMNS: FixtureColumn[] = [
  { name: 'n', type: 'integer' },
  { name: 'f', type: 'float' },
  { name: 't', type: 'text' },
  { name: 'd', type: 'date' },
  { name: 'ts', type: 'timestamp' },
  { name: 'b', type: 'boolean' },
  { name: 'j', type: 'json' },
];
const AT = '2024-05-06T07:08:09.123456Z';
// Columns of this table, one array per column.
const SMALL = {
  n: [1, 2, 2, 3, 3, 3, 4, null, null, 10],
  f: [0.5, 1.5, null, 2.5, 2.5, 0, 4, 4, null, '-0'],
  t: ['b', 'a', 'b', 'c', null, 'b', 'a', 'Z', 'b', 'Zoo'],
  d: [
    '2024-01-01',
    '2024-01-11',
    null,
    '2024-01-21',
    '2024-01-01',
    '2024-01-01',
    '2024-01-31',
    null,
    null,
    '2024-01-11',
  ],
  ts: [AT, null, AT, null, null, AT, null, null, null, null],
  b: [true, false, true, true, null, true, false, null, true, true],
  j: ['{"a":1}', '{"a": 1}', '{"a":2}', null, '[1]', '["x"]', null, null, '{}', '{"a":1}'],
};
export const smallRows = SMALL.n.map((_, i) =>
  SMALL_COLUMNS.map((column) => SMALL[column.name as keyof typeof SMALL][i]),
);

/** Reference statistics, computed here the textbook way. */
export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
export const sampleStddev = (xs: number[]) =>
  Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));
export function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const at = p * (sorted.length - 1);
  const [low, high] = [sorted[Math.floor(at)]!, sorted[Math.ceil(at)]!];
  return low + (high - low) * (at - Math.floor(at));
}
export const sum = (bins: { count: number }[] | null) => (bins ?? []).reduce((a, bin) => a + bin.count, 0);

export const column = (profile: DatasetProfile, name: string): ColumnProfile =>
  profile.columns.find((c) => c.name === name)!;

/** Inside a describe: a data-service, and helpers that read profiles through it. */
export function useProfileHarness() {
  const owner = person('editor');
  let browse: BrowseService;

  beforeAll(async () => {
    browse = await startBrowseService();
  });
  afterAll(() => browse.close());

  return {
    owner,
    browse: () => browse,
    get: (url: string) => browse.get(owner, url),

    dataset: (columns: FixtureColumn[], rows: FixtureRows) => browse.dataset(owner, columns, rows),

    async profileOf(fixture: DatasetFixture): Promise<DatasetProfile> {
      const response = await browse.get(owner, `/api/v1/data/datasets/${fixture.id}/profile`);
      expect(response.statusCode, response.body).toBe(200);
      return response.json<DatasetProfile>();
    },

    /** How many profiles this server has computed, as its /metrics reports it. */
    async profilesComputed(): Promise<number> {
      const text = await (await fetch(`${browse.data.url}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('data_profile_duration_seconds_count'));
      return Number(line?.split(' ').at(-1) ?? 0);
    },

    async storedVersions(fixture: DatasetFixture): Promise<number[]> {
      // The id is a UUID the service made, safe to write into the SQL.
      expect(fixture.id).toMatch(/^[0-9a-f-]{36}$/);
      const rows = await queryOnce(
        browse.platform.databaseUrl,
        `SELECT version FROM data.profiles WHERE dataset_id = '${fixture.id}' ORDER BY version`,
      );
      return rows.map((row) => Number(row.version));
    },
  };
}
