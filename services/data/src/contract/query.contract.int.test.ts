import { beforeAll, describe, expect, it } from 'vitest';
import { plainRows, readAnswer, type Format } from './answers.contract-fixtures.ts';
import {
  ORDERS,
  ORDER_COLUMNS as COLUMNS,
  ORDER_TYPES as TYPES,
  FIRST_THREE_ORDERS as FIRST_THREE,
} from './files.contract-fixtures.ts';
import {
  DATA,
  DATASETS,
  contractSuite,
  created,
  fresh,
  jsonOf,
  refusal,
  rowsOf,
  type Caller,
  type DatasetView,
  type QueryAnswer,
} from './http.contract-fixtures.ts';

/** Small, so the cap and the time limit are quick to reach. */
const MAX_ROWS = 5;
const TIMEOUT_MS = 5000;

describe('queries: SQL and structured, in JSON, CSV, Arrow and Parquet, capped, cached, checked', () => {
  const { stack, owner, viewer, stranger } = contractSuite(
    { owner: 'editor', viewer: 'viewer', stranger: 'editor' },
    { QUERY_MAX_ROWS: String(MAX_ROWS), QUERY_TIMEOUT_MS: String(TIMEOUT_MS) },
  );
  let orders: DatasetView;

  beforeAll(async () => {
    orders = (await created(owner, `${ORDERS}\n`, 'orders.csv', { name: fresh('orders') })).dataset;
  });

  const firstThree = () => `SELECT ${COLUMNS.join(', ')} FROM ${orders.name} WHERE id <= 3 ORDER BY id`;
  const answerOf = async (caller: Caller, body: unknown) => jsonOf<QueryAnswer>(await caller.query(body));
  /** The ids a structured query over the orders answers. */
  const idsOf = async (query: Record<string, unknown>) =>
    (await answerOf(owner, { dataset: orders.name, select: ['id'], ...query })).rows.map((row) => row[0]);

  it('answers SQL as JSON: typed columns, rows, the row count and truncated false', async () => {
    const answer = await answerOf(owner, { sql: firstThree() });
    expect(answer.columns).toEqual(COLUMNS.map((name, i) => ({ name, type: TYPES[i] })));
    expect({ ...answer, rows: plainRows(TYPES, answer.rows) }).toEqual({
      columns: answer.columns,
      rows: FIRST_THREE,
      row_count: 3,
      truncated: false,
    });
    expect(answer.rows.map((row) => typeof row[4])).toEqual(['string', 'string', 'object']);
  });

  it('answers aggregates with their types: count is an integer, sums and averages are numbers', async () => {
    const answer = await answerOf(owner, {
      sql: `SELECT region, count(*) AS orders, sum(amount) AS total, avg(amount) AS mean, min(day) AS first
            FROM ${orders.name} GROUP BY region ORDER BY region`,
    });
    expect(answer.columns.map((c) => [c.name, c.type])).toEqual([
      ['region', 'text'],
      ['orders', 'integer'],
      ['total', 'float'],
      ['mean', 'float'],
      ['first', 'date'],
    ]);
    expect(answer.rows).toEqual([
      ['east', 1, null, null, '2024-01-03'],
      ['north', 3, 16.75, 16.75 / 3, '2024-01-01'],
      ['south', 3, 30, 10, '2024-01-02'],
      ['west', 1, 100, 100, '2024-01-05'],
    ]);
  });

  // Today `SELECT *` also answers the engine's own `_row_id` column, which no file had.
  it.fails('answers SELECT * with the dataset’s own columns, no more', async () => {
    const answer = await answerOf(owner, { sql: `SELECT * FROM ${orders.name} WHERE id = 1` });
    expect(answer.columns.map((c) => c.name)).toEqual(COLUMNS);
  });

  it.each([
    ['csv', '?format=csv', {}, {}],
    ['arrow', '', { format: 'arrow' }, {}],
    ['parquet', '', {}, { accept: 'application/vnd.apache.parquet' }],
    ['csv', '', {}, { accept: 'text/csv' }],
    ['json', '', {}, { accept: 'application/json' }],
  ] as const)(
    'answers SQL and a structured query with the same rows as %s (asked by %j %j %j)',
    async (format: Format, query, body, headers) => {
      const structured = { dataset: orders.name, filters: [{ column: 'id', op: '<=', value: 3 }] };
      for (const asked of [{ sql: firstThree() }, structured]) {
        const response = await owner.call(`${DATA}/query${query}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ ...asked, ...body }),
        });
        const read = await readAnswer(response, format);
        expect(read.columns).toEqual(COLUMNS);
        expect(plainRows(TYPES, read.rows)).toEqual(FIRST_THREE);
      }
    },
  );

  it('answers a structured query: chosen and renamed columns, a filter, an order, limit and offset', async () => {
    const answer = await answerOf(owner, {
      dataset: orders.name,
      select: ['id', { column: 'region', as: 'area' }],
      filters: [{ column: 'amount', op: '>=', value: 7 }],
      order_by: [{ column: 'amount', direction: 'desc' }],
      limit: 2,
      offset: 1,
    });
    expect(answer).toEqual({
      columns: [
        { name: 'id', type: 'integer' },
        { name: 'area', type: 'text' },
      ],
      rows: [
        [2, 'south'],
        [1, 'north'],
      ],
      row_count: 2,
      truncated: false,
    });
  });

  it('answers a structured group-by with aggregates, groups in key order', async () => {
    const answer = await answerOf(owner, {
      dataset: orders.id,
      group_by: ['region'],
      aggregates: [
        { fn: 'count', as: 'orders' },
        { fn: 'sum', column: 'amount', as: 'total' },
        { fn: 'avg', column: 'amount', as: 'mean' },
        { fn: 'min', column: 'day', as: 'first' },
        { fn: 'max', column: 'amount', as: 'largest' },
        { fn: 'count_distinct', column: 'paid', as: 'kinds' },
      ],
    });
    expect(answer.columns.map((c) => [c.name, c.type])).toEqual([
      ['region', 'text'],
      ['orders', 'integer'],
      ['total', 'float'],
      ['mean', 'float'],
      ['first', 'date'],
      ['largest', 'float'],
      ['kinds', 'integer'],
    ]);
    expect(answer.rows).toEqual([
      ['east', 1, null, null, '2024-01-03', null, 0],
      ['north', 3, 16.75, 16.75 / 3, '2024-01-01', 10.5, 2],
      ['south', 3, 30, 10, '2024-01-02', 20, 2],
      ['west', 1, 100, 100, '2024-01-05', 100, 1],
    ]);
  });

  it.each([
    [{ column: 'region', op: 'in', value: ['north', 'west'] }, [1, 3, 6, 7]],
    [{ column: 'region', op: 'not_in', value: ['north'] }, [2, 4, 5, 7, 8]],
    [{ column: 'region', op: '!=', value: 'north' }, [2, 4, 5, 7, 8]],
    [{ column: 'region', op: 'contains', value: 'out' }, [2, 5, 8]],
    [{ column: 'region', op: 'starts_with', value: 'we' }, [7]],
    [{ column: 'amount', op: 'is_null' }, [4]],
    [{ column: 'at', op: 'not_null' }, [1, 2, 4, 5, 7]],
    [{ column: 'amount', op: '<', value: 5.25 }, [6, 8]],
    [{ column: 'day', op: '>', value: '2024-01-03' }, [6, 7, 8]],
    [{ column: 'at', op: '<=', value: '2024-01-02T11:30:00Z' }, [1, 2]],
    [{ column: 'paid', op: '=', value: true }, [1, 3, 5, 7]],
    [{ column: 'id', op: '=', value: '4' }, [4]],
  ])('filters a structured query by %j to %j, in upload order', async (filter, expected) => {
    expect(await idsOf({ filters: [filter] })).toEqual(expected);
  });

  it('answers a structured query by dataset name and by id alike', async () => {
    const query = { select: ['id'], filters: [{ column: 'paid', op: '=', value: false }] };
    const byName = await answerOf(owner, { dataset: orders.name, ...query });
    const byId = await answerOf(owner, { dataset: orders.id, ...query });
    expect([byName.rows, byId.rows]).toEqual([
      [[2], [6]],
      [[2], [6]],
    ]);
  });

  it('cuts an answer at QUERY_MAX_ROWS and says truncated, in the body and on a cached answer', async () => {
    const sql = `SELECT id FROM ${orders.name} ORDER BY id`;
    const answer = await answerOf(owner, { sql });
    expect(answer).toMatchObject({ rows: [[1], [2], [3], [4], [5]], row_count: MAX_ROWS, truncated: true });
    expect((await answerOf(owner, { dataset: orders.name, select: ['id'], limit: 100 })).truncated).toBe(
      true,
    );
    expect((await answerOf(owner, { dataset: orders.name, select: ['id'], limit: MAX_ROWS })).truncated).toBe(
      false,
    );
    for (const format of ['csv', 'arrow', 'parquet'] as const) {
      const first = await readAnswer(await owner.query({ sql }, format), format);
      expect(plainRows(['integer'], first.rows)).toEqual([[1], [2], [3], [4], [5]]);
      const again = await owner.query({ sql }, format);
      expect([again.headers.get('x-datalab-cache'), again.headers.get('x-datalab-truncated')]).toEqual([
        'hit',
        'true',
      ]);
      await again.arrayBuffer();
    }
  });

  // An uncached answer streams, so truncation is known only at its end; the service spools it first
  // and says so in a header, which every client sees (a trailer the gateway used to drop).
  it.each(['csv', 'arrow', 'parquet'] as const)(
    'says an uncached %s answer is truncated in a header every client sees',
    async (format) => {
      const sql = `SELECT id, '${format}' AS asked FROM ${orders.name} ORDER BY id`;
      const response = await owner.query({ sql }, format);
      expect(response.headers.get('x-datalab-cache')).toBe('miss');
      expect(response.headers.get('x-datalab-truncated')).toBe('true');
      await response.arrayBuffer();
    },
  );

  it.each([
    ['a syntax error', 'SELEC 1', 'line 1, column 1'],
    ['an unknown column', 'SELECT nope FROM $', 'line 1, column 8'],
    ['an unknown column on line 2', 'SELECT id,\n  nope\nFROM $', 'line 2, column 3'],
    ['two statements', 'SELECT 1; SELECT 2', 'one statement'],
    ['a DELETE', 'DELETE FROM $', 'DELETE'],
    ['an UPDATE', 'UPDATE $ SET amount = 0', 'UPDATE'],
    ['an INSERT', 'INSERT INTO $ (id) VALUES (9)', 'INSERT'],
    ['a DROP', 'DROP TABLE $', 'DROP'],
  ])('refuses %s with a 400 naming the place, and the data stays as it was', async (_label, sql, detail) => {
    const problem = await refusal(await owner.query({ sql: sql.replace('$', orders.name) }), 400, detail);
    expect(problem.errors).toContainEqual(expect.objectContaining({ field: '/body/sql' }));
    expect(await rowsOf(owner, `SELECT count(*), sum(amount) FROM ${orders.name}`)).toEqual([[8, 146.75]]);
  });

  it('answers 404 for a dataset the caller may not read, exactly as for one that does not exist', async () => {
    const unknown = fresh('nothing');
    const hidden = await refusal(await stranger.query({ sql: `SELECT id FROM ${orders.name}` }), 404, '');
    const missing = await refusal(await stranger.query({ sql: `SELECT id FROM ${unknown}` }), 404, '');
    expect(hidden.detail).toBe(`Dataset "${orders.name}" not found`);
    expect(missing.detail).toBe(`Dataset "${unknown}" not found`);
    await refusal(await viewer.query({ dataset: orders.id }), 404, 'not found');
  });

  it.each([
    [{ sql: '' }, '/body/sql'],
    [{ sql: 'SELECT 1', dataset: 'x' }, '/body'],
    [{ dataset: '$', select: ['nope'] }, '/body/select/0'],
    [{ dataset: '$', filters: [{ column: 'id', op: '=', value: 'one' }] }, '/body/filters/0/value'],
    [{ dataset: '$', filters: [{ column: 'id', op: 'like', value: 1 }] }, '/body/filters/0/op'],
    [{ dataset: '$', aggregates: [{ fn: 'sum', as: 's' }] }, '/body/aggregates/0/column'],
    [{ dataset: '$', select: ['id'], aggregates: [{ fn: 'count', as: 'n' }] }, '/body/select/0'],
    [{ dataset: '$', order_by: [{ column: 'nope' }] }, '/body/order_by/0/column'],
    [
      { dataset: '$', select: ['id'], aggregates: [{ fn: 'count', as: 'id' }], group_by: ['id'] },
      '/body/aggregates/0/as',
    ],
    [{ dataset: '$', limit: -1 }, '/body/limit'],
  ])('refuses the query %j with a 400 naming %s', async (body, field) => {
    const sent = JSON.parse(JSON.stringify(body).replace('"$"', JSON.stringify(orders.name))) as unknown;
    const problem = await refusal(await owner.query(sent), 400, '');
    expect(problem.errors).toContainEqual(expect.objectContaining({ field }));
  });

  it('refuses an unknown answer format, naming it', async () => {
    const problem = await refusal(await owner.query({ sql: 'SELECT 1 AS one' }, 'xml'), 400, 'format');
    expect(problem.errors).toContainEqual(expect.objectContaining({ field: '/querystring/format' }));
  });

  it('stops a query at QUERY_TIMEOUT_MS with a 400 naming the limit, and keeps answering', async () => {
    const problem = await refusal(
      await owner.query({ sql: 'SELECT count(*) FROM generate_series(1, 100000000000)' }),
      400,
      `${TIMEOUT_MS / 1000} s`,
    );
    expect(problem.detail).toMatch(/limit/);
    expect(await rowsOf(owner, 'SELECT 1 AS one')).toEqual([[1]]);
    stack.assertAlive();
  });

  it('answers a repeated query from the cache, and a new version afresh', async () => {
    const { dataset } = await created(owner, 'n\n1\n2\n', 'n.csv', { name: fresh('cached') });
    const sql = `SELECT sum(n) AS total FROM ${dataset.name}`;
    const ask = async () => {
      const response = await owner.query({ sql });
      return {
        cache: response.headers.get('x-datalab-cache'),
        rows: (await jsonOf<QueryAnswer>(response)).rows,
      };
    };
    expect(await ask()).toEqual({ cache: 'miss', rows: [[3]] });
    expect(await ask()).toEqual({ cache: 'hit', rows: [[3]] });
    expect((await owner.addVersion(dataset.id, 'n\n10\n', 'more.csv')).status).toBe(201);
    expect(await ask()).toEqual({ cache: 'miss', rows: [[13]] });
    expect(await ask()).toEqual({ cache: 'hit', rows: [[13]] });
    expect((await owner.addVersion(dataset.id, 'n\n5\n', 'again.csv', { mode: 'replace' })).status).toBe(201);
    expect(await ask()).toEqual({ cache: 'miss', rows: [[5]] });
  });

  it('checks who may read before answering from the cache', async () => {
    const { dataset } = await created(owner, 'n\n1\n2\n', 'n.csv', {
      name: fresh('guarded'),
      visibility: 'shared',
    });
    const sql = `SELECT sum(n) AS total FROM ${dataset.name}`;
    const viewerAsks = () => viewer.query({ sql });
    expect((await viewerAsks()).headers.get('x-datalab-cache')).toBe('miss');
    const hit = await viewerAsks();
    expect(hit.headers.get('x-datalab-cache')).toBe('hit');
    expect((await jsonOf<QueryAnswer>(hit)).rows).toEqual([[3]]);

    expect((await owner.send('PATCH', `${DATASETS}/${dataset.id}`, { visibility: 'private' })).status).toBe(
      200,
    );
    await refusal(await viewerAsks(), 404, `Dataset "${dataset.name}" not found`);
    expect((await jsonOf<QueryAnswer>(await owner.query({ sql }))).rows).toEqual([[3]]);
    expect((await jsonOf<QueryAnswer>(await owner.query({ sql }))).rows).toEqual([[3]]);
    await refusal(await stranger.query({ sql }), 404, `Dataset "${dataset.name}" not found`);

    expect((await owner.send('PATCH', `${DATASETS}/${dataset.id}`, { visibility: 'shared' })).status).toBe(
      200,
    );
    expect((await jsonOf<QueryAnswer>(await viewerAsks())).rows).toEqual([[3]]);
  });

  it('answers 401 to a query without credentials', async () => {
    const response = await fetch(`${stack.url}${DATA}/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sql: 'SELECT 1' }),
    });
    await refusal(response, 401, 'Authentication required');
  });
});
