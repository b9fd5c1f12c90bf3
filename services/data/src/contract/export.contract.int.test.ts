import { beforeAll, describe, expect, it } from 'vitest';
import { plainRows, readAnswer, type Format } from './answers.contract-fixtures.ts';
import {
  DATASETS,
  contractSuite,
  created,
  fresh,
  jsonOf,
  refusal,
  type Caller,
  type DatasetView,
  type QueryAnswer,
} from './http.contract-fixtures.ts';

/** Below the five rows of the dataset: an export is the whole dataset, never cut at the query cap. */
const MAX_ROWS = 3;

const ITEMS = [
  'code,label,weight,checked,since,at,extra',
  '007,"Smith, ""Agent""",1.5,true,2024-02-29,2024-03-01T12:00:00.123Z,"{""k"":[1,2]}"',
  '010,"two\nlines",,false,,,',
  ',Zürich 東京,-2,,1999-12-31,,',
  '011,plain,0,true,2000-01-01,2000-01-01T00:00:00Z,[]',
  '012,last,1e6,false,2024-01-01,2024-01-01T23:59:59Z,{}',
].join('\n');
const COLUMNS = ['code', 'label', 'weight', 'checked', 'since', 'at', 'extra'];
const TYPES = ['text', 'text', 'float', 'boolean', 'date', 'timestamp', 'json'];
/** The items in upload order, in plain form (timestamps as epoch milliseconds). */
const PLAIN = [
  ['007', 'Smith, "Agent"', 1.5, true, '2024-02-29', Date.UTC(2024, 2, 1, 12, 0, 0, 123), { k: [1, 2] }],
  ['010', 'two\nlines', null, false, null, null, null],
  [null, 'Zürich 東京', -2, null, '1999-12-31', null, null],
  ['011', 'plain', 0, true, '2000-01-01', Date.UTC(2000, 0, 1), []],
  ['012', 'last', 1_000_000, false, '2024-01-01', Date.UTC(2024, 0, 1, 23, 59, 59), {}],
];

describe('exports: a whole dataset as CSV, JSON, Arrow or Parquet', () => {
  const { stack, owner, viewer, stranger } = contractSuite(
    { owner: 'editor', viewer: 'viewer', stranger: 'editor' },
    { QUERY_MAX_ROWS: String(MAX_ROWS) },
  );
  let items: DatasetView;

  beforeAll(async () => {
    items = (await created(owner, `${ITEMS}\n`, 'items.csv', { name: fresh('items') })).dataset;
  });

  const exportOf = (caller: Caller, id: string, query = '', headers: Record<string, string> = {}) =>
    caller.call(`${DATASETS}/${id}/export${query}`, { headers });

  it.each([
    ['csv', '', {}, 'csv'],
    ['csv', '?format=csv', {}, 'csv'],
    ['json', '?format=json', {}, 'json'],
    ['arrow', '', { accept: 'application/vnd.apache.arrow.stream' }, 'arrows'],
    ['arrow', '?format=arrow', {}, 'arrows'],
    ['parquet', '?format=parquet', {}, 'parquet'],
  ] as const)(
    'downloads every row as %s (%s %j) in upload order, as an attachment named after the dataset',
    async (format: Format, query, headers, extension) => {
      const response = await exportOf(owner, items.id, query, headers);
      expect(response.headers.get('content-disposition')).toBe(
        `attachment; filename="${items.name}.${extension}"`,
      );
      const read = await readAnswer(response, format);
      expect(read.columns).toEqual(COLUMNS);
      expect(plainRows(TYPES, read.rows)).toEqual(PLAIN);
    },
  );

  it('downloads JSON with typed columns, the row count and truncated false', async () => {
    const answer = await jsonOf<QueryAnswer>(await exportOf(owner, items.id, '?format=json'));
    expect({ ...answer, rows: plainRows(TYPES, answer.rows) }).toEqual({
      columns: COLUMNS.map((name, i) => ({ name, type: TYPES[i] })),
      rows: PLAIN,
      row_count: 5,
      truncated: false,
    });
  });

  it('downloads the same bytes by name as by id', async () => {
    const byId = await (await exportOf(owner, items.id)).text();
    const byName = await (await exportOf(owner, items.name)).text();
    expect(byName).toBe(byId);
    expect(byId.split(/\r?\n/)[0]).toBe(COLUMNS.join(','));
  });

  it('downloads the latest version: appended rows follow, a replace is all there is', async () => {
    const { dataset } = await created(owner, 'n,s\n1,a\n2,b\n', 'n.csv', { name: fresh('versioned') });
    const csv = async () => (await readAnswer(await exportOf(owner, dataset.id), 'csv')).rows;
    expect(await csv()).toEqual([
      ['1', 'a'],
      ['2', 'b'],
    ]);
    expect((await owner.addVersion(dataset.id, 'n,s\n3,c\n4,d\n', 'more.csv')).status).toBe(201);
    expect(await csv()).toEqual([
      ['1', 'a'],
      ['2', 'b'],
      ['3', 'c'],
      ['4', 'd'],
    ]);
    expect((await owner.addVersion(dataset.id, 'z\nonly\n', 'new.csv', { mode: 'replace' })).status).toBe(
      201,
    );
    const replaced = await readAnswer(await exportOf(owner, dataset.id), 'csv');
    expect(replaced).toEqual({ columns: ['z'], rows: [['only']] });
  });

  it('downloads a dataset without rows as its header (CSV) or an empty list (JSON)', async () => {
    const { dataset } = await created(owner, 'a,b\n', 'empty.csv', { name: fresh('empty') });
    expect(await readAnswer(await exportOf(owner, dataset.id), 'csv')).toEqual({
      columns: ['a', 'b'],
      rows: [],
    });
    expect(await jsonOf<QueryAnswer>(await exportOf(owner, dataset.id, '?format=json'))).toMatchObject({
      rows: [],
      row_count: 0,
      truncated: false,
    });
  });

  it('lets a viewer download a shared dataset, and answers 404 to whoever may not read one', async () => {
    const { dataset } = await created(owner, 'n\n1\n', 'n.csv', {
      name: fresh('open'),
      visibility: 'shared',
    });
    expect((await readAnswer(await exportOf(viewer, dataset.id), 'csv')).rows).toEqual([['1']]);
    await refusal(await exportOf(viewer, items.id), 404, 'Dataset not found');
    await refusal(await exportOf(stranger, items.id), 404, 'Dataset not found');
    await refusal(await exportOf(owner, fresh('nothing')), 404, 'Dataset not found');
    await refusal(await fetch(`${stack.url}${DATASETS}/${items.id}/export`), 401, 'Authentication required');
  });

  it('refuses a format it does not write, naming the parameter', async () => {
    const problem = await refusal(await exportOf(owner, items.id, '?format=xml'), 400, 'format');
    expect(problem.errors).toContainEqual(expect.objectContaining({ field: '/querystring/format' }));
  });
});
