import { expect } from 'vitest';
import type { Principal } from '@datalab/platform';
import type { RowsPage } from './browse.schemas.ts';
import {
  startBrowseService,
  type BrowseService,
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

const dayOf = (offset: number) => new Date(Date.UTC(2024, 0, 1 + offset)).toISOString().slice(0, 10);

/** Row i (1..ROWS): many ties and nulls in every column; timestamps a microsecond apart, so cursors must keep microseconds. */
export function generatedRow(i: number): unknown[] {
  return [
    i,
    i % 7 === 0 ? null : (i % 50) / 4,
    i % 9 === 0 ? null : `l${String(i % 13).padStart(2, '0')}`,
    i % 11 === 0 ? null : dayOf(i % 30),
    i % 17 === 0 ? null : `2024-03-01T12:00:00.${String(i % 97).padStart(6, '0')}Z`,
    i % 5 === 0 ? null : i % 3 === 0,
    `${i}${i % 2 === 0 ? '%' : '_'}`,
    { k: i % 4 },
  ];
}

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
    /:(\d{2})(\.\d+)?(Z|[+-])/,
    (_m, s: string, f: string | undefined, zone: string) => `:${s}${(f ?? '.').padEnd(7, '0')}${zone}`,
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

/** The order the API promises: by the sort value, nulls last, ties in upload order; all reversed but nulls when descending. */
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

export function rowsReader(browse: BrowseService) {
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
      expect(response.statusCode, response.body).toBe(200);
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
  browse: BrowseService;
  /** The 2,500-row dataset, owned by the owner given. */
  dataset: DatasetFixture;
  /** Every row of it, in upload order. */
  everyRow: Row[];
  page: ReturnType<typeof rowsReader>['page'];
  pageThrough: (
    params: RowsParams,
    limit: number,
  ) => ReturnType<ReturnType<typeof rowsReader>['pageThrough']>;
  close: () => Promise<void>;
}

/** The data-service and the 2,500-row dataset the paging and filter tests read. */
export async function openRowsSetup(owner: Principal): Promise<RowsSetup> {
  const browse = await startBrowseService();
  const reader = rowsReader(browse);
  const rows = Array.from({ length: ROWS }, (_, i) => generatedRow(i + 1));
  const dataset = await browse.dataset(owner, COLUMNS, rows);
  const pageThrough = (params: RowsParams, limit: number) =>
    reader.pageThrough(owner, dataset.id, params, limit);
  const everyRow = (await pageThrough({}, 1000)).rows;
  return {
    browse,
    dataset,
    everyRow,
    page: reader.page,
    pageThrough,
    close: () => browse.close(),
  };
}
