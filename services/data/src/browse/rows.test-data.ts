import { expect } from 'vitest';
import type { Principal } from '@datalab/platform';
import type { RowsPage } from './browse.schemas.ts';
import type { Database } from '@datalab/platform';
import { testDatabase } from '../../../../test/helpers.ts';
import {
  browseTestApp,
  createDatasetFixture,
  dropDatasetFixture,
  migrateDataSchema,
  type BrowseTestApp,
  type DatasetFixture,
  type FixtureColumn,
} from './browse.test-fixtures.ts';

/** A 2,500-row dataset for paging and filter tests, what its rows look like, and how to read them. */

export const ROWS = 2500;
export const COLUMNS: FixtureColumn[] = [
  { name: 'id', type: 'integer' },
  { name: 'score', type: 'float' },
  { name: 'label', type: 'text' },
  { name: 'day', type: 'date' },
  { name: 'at', type: 'timestamp' },
  { name: 'flag', type: 'boolean' },
  { name: 'code', type: 'text' },
  { name: 'doc', type: 'json' },
];
// Many ties and nulls in every column; timestamps a microsecond apart, so cursors must keep microseconds.
export const EXPRESSIONS = [
  'i',
  'CASE WHEN i % 7 = 0 THEN NULL ELSE (i % 50) / 4.0 END',
  "CASE WHEN i % 9 = 0 THEN NULL ELSE 'l' || lpad((i % 13)::text, 2, '0') END",
  "CASE WHEN i % 11 = 0 THEN NULL ELSE date '2024-01-01' + (i % 30) END",
  "CASE WHEN i % 17 = 0 THEN NULL ELSE timestamptz '2024-03-01 12:00:00+00' + (i % 97) * interval '1 microsecond' END",
  'CASE WHEN i % 5 = 0 THEN NULL ELSE i % 3 = 0 END',
  "i::text || CASE WHEN i % 2 = 0 THEN '%' ELSE '_' END",
  "jsonb_build_object('k', i % 4)",
];

export interface Row {
  id: number;
  score: number | null;
  label: string | null;
  day: string | null;
  at: string | null;
  flag: boolean | null;
  code: string;
  doc: { k: number };
}

export const toRow = (values: unknown[]): Row =>
  Object.fromEntries(COLUMNS.map((column, i) => [column.name, values[i]])) as unknown as Row;

/** Timestamps with their fraction padded to microseconds compare as strings. */
export const timeKey = (at: string) =>
  at.replace(
    /:(\d{2})(\.\d+)?([+-])/,
    (_m, s: string, f: string | undefined, sign: string) => `:${s}${(f ?? '.').padEnd(7, '0')}${sign}`,
  );

const sortKeys: Record<string, (row: Row) => number | string | null> = {
  id: (row) => row.id,
  score: (row) => row.score,
  label: (row) => row.label,
  day: (row) => row.day,
  at: (row) => (row.at === null ? null : timeKey(row.at)),
  flag: (row) => (row.flag === null ? null : Number(row.flag)),
  doc: (row) => row.doc.k,
};

/** The order the API promises: by the sort value, nulls last, ties by insertion; all reversed but nulls when descending. */
export function expectedOrder(rows: Row[], sort: string): number[] {
  const descending = sort.startsWith('-');
  const key = sortKeys[descending ? sort.slice(1) : sort]!;
  const direction = descending ? -1 : 1;
  return [...rows]
    .sort((a, b) => {
      const [x, y] = [key(a), key(b)];
      if (x === null || y === null) return x === y ? direction * (a.id - b.id) : x === null ? 1 : -1;
      if (x !== y) return direction * (x < y ? -1 : 1);
      return direction * (a.id - b.id);
    })
    .map((row) => row.id);
}

export type RowsParams = Record<string, string | string[]>;

export function rowsReader(browse: BrowseTestApp) {
  async function page(who: Principal, id: string, params: RowsParams) {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) {
      for (const one of Array.isArray(value) ? value : [value]) search.append(name, one);
    }
    return browse.get(who, `/api/v1/data/datasets/${id}/rows?${search.toString()}`);
  }

  /** Follows `next` to the end, checking each page's size; returns every row seen. */
  async function pageThrough(who: Principal, id: string, params: RowsParams, limit: number) {
    const rows: Row[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const response = await page(who, id, { ...params, limit: String(limit), ...(after ? { after } : {}) });
      expect(response.statusCode).toBe(200);
      const body = response.json<RowsPage>();
      expect(body.rows.length).toBeLessThanOrEqual(limit);
      rows.push(...body.rows.map(toRow));
      after = body.next;
      pages += 1;
    } while (after !== null);
    return { rows, pages };
  }

  return { page, pageThrough };
}

export interface RowsSetup {
  db: Database;
  browse: BrowseTestApp;
  /** The 2,500-row dataset, owned by the owner given. */
  dataset: DatasetFixture;
  /** Every row of it, in insertion order. */
  everyRow: Row[];
  page: ReturnType<typeof rowsReader>['page'];
  pageThrough: (
    params: RowsParams,
    limit: number,
  ) => ReturnType<ReturnType<typeof rowsReader>['pageThrough']>;
  /** Datasets to drop at the end; the main one is already listed. */
  fixtures: DatasetFixture[];
  close: () => Promise<void>;
}

/** The database, the browse server and the 2,500-row dataset the paging and filter tests read. */
export async function openRowsSetup(owner: Principal): Promise<RowsSetup> {
  const db = await testDatabase();
  await migrateDataSchema(db.pool);
  const browse = await browseTestApp(db);
  const reader = rowsReader(browse);
  const dataset = await createDatasetFixture(db.pool, {
    ownerId: owner.userId,
    columns: COLUMNS,
    rows: { count: ROWS, expressions: EXPRESSIONS },
  });
  const fixtures = [dataset];
  const pageThrough = (params: RowsParams, limit: number) =>
    reader.pageThrough(owner, dataset.id, params, limit);
  const everyRow = (await pageThrough({}, 1000)).rows;
  return {
    db,
    browse,
    dataset,
    everyRow,
    page: reader.page,
    pageThrough,
    fixtures,
    close: async () => {
      await browse.app.close();
      for (const fixture of fixtures) await dropDatasetFixture(db.pool, fixture);
      await db.close();
    },
  };
}
