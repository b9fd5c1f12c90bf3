import { beforeAll, describe, expect, it } from 'vitest';
import { plainRows } from './answers.contract-fixtures.ts';
import {
  DATASETS,
  contractSuite,
  created,
  fresh,
  jsonOf,
  refusal,
  type DatasetView,
} from './http.contract-fixtures.ts';

interface Page {
  columns: { name: string; original_name: string; type: string }[];
  rows: unknown[][];
  next: string | null;
}

/** Seven people; `id` is their upload order. Names are lower case, so any collation sorts them alike. */
const PEOPLE = [
  'id,name,score,day,at,ok,doc',
  '1,ada,3.5,2024-01-03,2024-01-03T10:00:00Z,true,"{""k"":1}"',
  '2,bob,,2024-01-01,,false,',
  '3,cy,1.25,,2024-01-01T08:30:00Z,true,[1]',
  '4,dee,3.5,2024-01-02,2024-01-02T00:00:00+01:00,,',
  '5,ed,-2,2024-01-05,,false,',
  '6,al,,2024-01-04,2024-01-04T12:00:00Z,true,',
  '7,bo,10,2024-01-06,2024-01-05T00:00:00Z,false,"{""k"":2}"',
].join('\n');
const TYPES = ['integer', 'text', 'float', 'date', 'timestamp', 'boolean', 'json'];

describe('browsing rows: filters, sort and paging', () => {
  const { stack, owner, viewer, stranger } = contractSuite({
    owner: 'editor',
    viewer: 'viewer',
    stranger: 'editor',
  });
  let people: DatasetView;
  let secret: DatasetView;

  beforeAll(async () => {
    people = (
      await created(owner, `${PEOPLE}\n`, 'people.csv', { name: fresh('people'), visibility: 'shared' })
    ).dataset;
    secret = (await created(owner, 'x\n1\n', 'x.csv', { name: fresh('secret') })).dataset;
  });

  const page = async (query: string, caller = owner) =>
    jsonOf<Page>(await caller.call(`${DATASETS}/${people.id}/rows${query ? `?${query}` : ''}`));
  const ids = (answer: Page) => answer.rows.map((row) => row[0]);
  /** Every page of a listing, following `next`: the ids of each page. */
  async function pages(query: string): Promise<unknown[][]> {
    const found: unknown[][] = [];
    let answer = await page(query);
    found.push(ids(answer));
    while (answer.next !== null) {
      answer = await page(`${query}&after=${encodeURIComponent(answer.next)}`);
      found.push(ids(answer));
    }
    return found;
  }

  it('answers the rows in upload order with the columns, the values typed, and no next page', async () => {
    const answer = await page('');
    expect(answer.columns).toEqual([
      { name: 'id', original_name: 'id', type: 'integer' },
      { name: 'name', original_name: 'name', type: 'text' },
      { name: 'score', original_name: 'score', type: 'float' },
      { name: 'day', original_name: 'day', type: 'date' },
      { name: 'at', original_name: 'at', type: 'timestamp' },
      { name: 'ok', original_name: 'ok', type: 'boolean' },
      { name: 'doc', original_name: 'doc', type: 'json' },
    ]);
    expect(answer.next).toBeNull();
    expect(answer.rows.map((row) => row[3])).toEqual([
      '2024-01-03',
      '2024-01-01',
      null,
      '2024-01-02',
      '2024-01-05',
      '2024-01-04',
      '2024-01-06',
    ]);
    expect(plainRows(TYPES, answer.rows)).toEqual([
      [1, 'ada', 3.5, '2024-01-03', Date.UTC(2024, 0, 3, 10), true, { k: 1 }],
      [2, 'bob', null, '2024-01-01', null, false, null],
      [3, 'cy', 1.25, null, Date.UTC(2024, 0, 1, 8, 30), true, [1]],
      [4, 'dee', 3.5, '2024-01-02', Date.UTC(2024, 0, 1, 23), null, null],
      [5, 'ed', -2, '2024-01-05', null, false, null],
      [6, 'al', null, '2024-01-04', Date.UTC(2024, 0, 4, 12), true, null],
      [7, 'bo', 10, '2024-01-06', Date.UTC(2024, 0, 5), false, { k: 2 }],
    ]);
    expect(await page('', viewer)).toEqual(answer);
  });

  it('pages with limit and next, each row once, the last page saying there is no next', async () => {
    expect(await pages('limit=3')).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    expect(await pages('limit=7')).toEqual([[1, 2, 3, 4, 5, 6, 7]]);
  });

  it.each([
    ['score', [5, 3, 1, 4, 7, 2, 6]],
    ['-score', [7, 4, 1, 3, 5, 6, 2]],
    ['name', [1, 6, 7, 2, 3, 4, 5]],
    ['-day', [7, 5, 6, 1, 4, 2, 3]],
    ['at', [3, 4, 1, 6, 7, 2, 5]],
    ['ok', [2, 5, 7, 1, 3, 6, 4]],
  ])(
    'sorts by %s: nulls last either way, ties in upload order (reversed when descending)',
    async (sort, order) => {
      expect(ids(await page(`sort=${sort}`))).toEqual(order);
      expect((await pages(`sort=${sort}&limit=2`)).flat()).toEqual(order);
    },
  );

  it.each([
    [['id:eq:3'], [3]],
    [['name:eq:bo'], [7]],
    [['score:ne:3.5'], [2, 3, 5, 6, 7]],
    [['score:lt:3.5'], [3, 5]],
    [['score:le:3.5'], [1, 3, 4, 5]],
    [['score:gt:3.5'], [7]],
    [['score:ge:3.5'], [1, 4, 7]],
    [['name:contains:O'], [2, 7]],
    [['name:starts_with:A'], [1, 6]],
    [['day:is_null'], [3]],
    [['score:not_null'], [1, 3, 4, 5, 7]],
    [['name:in:ada|ed|zed'], [1, 5]],
    [['day:ge:2024-01-03'], [1, 5, 6, 7]],
    [['at:lt:2024-01-02T00:00:00Z'], [3, 4]],
    [['ok:eq:true'], [1, 3, 6]],
    [['ok:ne:true'], [2, 4, 5, 7]],
    [['doc:not_null'], [1, 3, 7]],
    [
      ['ok:eq:false', 'score:not_null'],
      [5, 7],
    ],
  ])('filters %j to the rows %j', async (filters, expected) => {
    const query = filters.map((filter) => `filter=${encodeURIComponent(filter)}`).join('&');
    expect(ids(await page(query))).toEqual(expected);
  });

  it('filters, sorts and pages together', async () => {
    expect(await pages('filter=score:not_null&sort=-score&limit=2')).toEqual([[7, 4], [1, 3], [5]]);
  });

  it.each([
    ['filter=nope:eq:1', '/querystring/filter/0', 'unknown column "nope"'],
    ['filter=id:like:1', '/querystring/filter/0', 'unknown operator "like"'],
    ['filter=id:contains:1', '/querystring/filter/0', 'contains does not apply to integer column "id"'],
    ['filter=doc:lt:1', '/querystring/filter/0', 'lt does not apply to json column "doc"'],
    ['filter=id:eq:x', '/querystring/filter/0', '"x" is not an integer (column "id")'],
    ['filter=id:eq:1&filter=day:eq:2024-02-30', '/querystring/filter/1', '"2024-02-30"'],
    ['filter=day:is_null:x', '/querystring/filter/0', 'takes no value'],
    ['filter=id:eq', '/querystring/filter/0', 'needs a value'],
    ['sort=nope', '/querystring/sort', 'unknown column "nope"'],
    ['after=garbage', '/querystring/after', 'not a cursor'],
    ['limit=0', '/querystring/limit', 'limit'],
    ['limit=1001', '/querystring/limit', 'limit'],
  ])('refuses %s with a 400 naming %s', async (query, field, detail) => {
    const problem = await refusal(await owner.call(`${DATASETS}/${people.id}/rows?${query}`), 400, detail);
    expect(problem.errors).toContainEqual(expect.objectContaining({ field }));
  });

  it('refuses the cursor of one sort under another', async () => {
    const first = await page('limit=2');
    const problem = await refusal(
      await owner.call(`${DATASETS}/${people.id}/rows?sort=id&after=${encodeURIComponent(first.next!)}`),
      400,
      'the cursor belongs to the unsorted listing',
    );
    expect(problem.errors).toContainEqual(expect.objectContaining({ field: '/querystring/after' }));
  });

  it('answers 404 to whoever may not read the dataset, as for one that does not exist', async () => {
    await refusal(await stranger.call(`${DATASETS}/${secret.id}/rows`), 404, 'Dataset not found');
    await refusal(await viewer.call(`${DATASETS}/${secret.id}/rows`), 404, 'Dataset not found');
    await refusal(
      await owner.call(`${DATASETS}/00000000-0000-4000-8000-000000000000/rows`),
      404,
      'Dataset not found',
    );
    await refusal(await fetch(`${stack.url}${DATASETS}/${secret.id}/rows`), 401, 'Authentication required');
  });

  it('reads rows by the dataset’s name as by its id', async () => {
    const byName = await jsonOf<Page>(await owner.call(`${DATASETS}/${people.name}/rows?limit=2`));
    expect(ids(byName)).toEqual([1, 2]);
  });
});
