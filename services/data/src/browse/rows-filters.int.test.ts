import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { person } from '../../../../test/internal.ts';
import type { DatasetFixture } from './browse.test-fixtures.ts';
import { openRowsSetup, expectedOrder, timeKey, type Row, type RowsSetup } from './rows.test-data.ts';

describe('filtering rows', () => {
  const owner = person('editor');
  let setup: RowsSetup;
  let dataset: DatasetFixture;
  let everyRow: Row[];
  let page: RowsSetup['page'];
  let pageThrough: RowsSetup['pageThrough'];

  beforeAll(async () => {
    setup = await openRowsSetup(owner);
    ({ dataset, everyRow, page, pageThrough } = setup);
  });
  afterAll(() => setup.close());

  it.each<[string[], (row: Row) => boolean]>([
    [['id:eq:5'], (r) => r.id === 5],
    [['score:ne:0.5'], (r) => r.score !== 0.5],
    [['id:lt:10'], (r) => r.id < 10],
    [['id:le:10'], (r) => r.id <= 10],
    [['id:gt:2490'], (r) => r.id > 2490],
    [['id:ge:2490'], (r) => r.id >= 2490],
    [['score:ge:12', 'score:lt:12.25'], (r) => r.score === 12],
    [['label:contains:L1'], (r) => r.label?.includes('l1') === true],
    [['label:starts_with:L0'], (r) => r.label?.startsWith('l0') === true],
    [['code:contains:0%'], (r) => r.code.includes('0%')],
    [['code:starts_with:1_'], (r) => r.code.startsWith('1_')],
    [['score:is_null'], (r) => r.score === null],
    [['score:not_null'], (r) => r.score !== null],
    [['label:in:l01|l03'], (r) => r.label === 'l01' || r.label === 'l03'],
    [['id:in:1|2|3|2500'], (r) => [1, 2, 3, 2500].includes(r.id)],
    [['day:ge:2024-01-25'], (r) => r.day !== null && r.day >= '2024-01-25'],
    [
      ['at:lt:2024-03-01T12:00:00.000005Z'],
      (r) => r.at !== null && timeKey(r.at) < timeKey('2024-03-01T12:00:00.000005Z'),
    ],
    [['at:eq:2024-03-01 13:00:00.000090+01:00'], (r) => r.at === '2024-03-01T12:00:00.00009Z'],
    [['flag:eq:true'], (r) => r.flag === true],
    [['flag:ne:true'], (r) => r.flag !== true],
    [['doc:eq:{"k": 2}'], (r) => r.doc.k === 2],
    [['doc:in:{"k":1}|{"k":3}'], (r) => r.doc.k === 1 || r.doc.k === 3],
    [
      ['flag:eq:false', 'label:in:l02|l05', 'score:not_null'],
      (r) => r.flag === false && (r.label === 'l02' || r.label === 'l05') && r.score !== null,
    ],
  ])('filters with %j', async (filter, keep) => {
    const expected = everyRow.filter(keep).map((row) => row.id);
    expect(expected.length).toBeGreaterThan(0);
    const { rows } = await pageThrough({ filter }, 1000);
    expect(rows.map((row) => row.id)).toEqual(expected);
  });

  it('pages through a filtered, sorted listing with the same cursor rules', async () => {
    const filter = ['label:starts_with:l0', 'day:not_null'];
    const { rows } = await pageThrough({ filter, sort: '-score' }, 50);
    const kept = everyRow.filter((r) => r.label?.startsWith('l0') === true && r.day !== null);
    expect(rows.map((row) => row.id)).toEqual(expectedOrder(kept, '-score'));
  });

  const cursor = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it.each<[string, Record<string, string | string[]>, string]>([
    ['a limit of 0', { limit: '0' }, '/querystring/limit'],
    ['a limit over 1000', { limit: '1001' }, '/querystring/limit'],
    ['an unknown sort column', { sort: 'nope' }, '/querystring/sort'],
    ['the row id as sort column', { sort: '-_row_id' }, '/querystring/sort'],
    ['an unknown filter column', { filter: 'nope:eq:1' }, '/querystring/filter/0'],
    ['an unknown operator', { filter: ['id:eq:1', 'id:between:1'] }, '/querystring/filter/1'],
    ['a fraction for an integer', { filter: 'id:eq:1.5' }, '/querystring/filter/0'],
    ['an integer beyond bigint', { filter: 'id:gt:99999999999999999999' }, '/querystring/filter/0'],
    ['a number too large for a float', { filter: 'score:lt:1e999' }, '/querystring/filter/0'],
    ['a day that does not exist', { filter: 'day:eq:2024-02-30' }, '/querystring/filter/0'],
    ['words for a timestamp', { filter: 'at:gt:yesterday' }, '/querystring/filter/0'],
    ['maybe for a boolean', { filter: 'flag:eq:maybe' }, '/querystring/filter/0'],
    ['broken JSON', { filter: 'doc:eq:{bad' }, '/querystring/filter/0'],
    ['one bad value in a list', { filter: 'id:in:1|two|3' }, '/querystring/filter/0'],
    ['a comparison without a value', { filter: 'label:lt' }, '/querystring/filter/0'],
    ['is_null with a value', { filter: 'label:is_null:x' }, '/querystring/filter/0'],
    ['contains on a boolean', { filter: 'flag:contains:t' }, '/querystring/filter/0'],
    ['an ordering on JSON', { filter: 'doc:lt:{}' }, '/querystring/filter/0'],
    ['a cursor that is not one', { after: 'not-a-cursor' }, '/querystring/after'],
    [
      'a cursor whose row id is out of range',
      { after: cursor({ s: null, v: null, id: '99999999999999999999' }) },
      '/querystring/after',
    ],
    [
      'a forged cursor value',
      { sort: 'day', after: cursor({ s: 'day', v: 'soon', id: '1' }) },
      '/querystring/after',
    ],
    [
      'a cursor made under another sort',
      { sort: 'label', after: cursor({ s: 'id', v: '5', id: '5' }) },
      '/querystring/after',
    ],
  ])('refuses %s with 400 naming the parameter', async (_what, params, field) => {
    const response = await page(owner, dataset.id, params);
    expect(response.statusCode).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const problem = response.json<{ type: string; detail: string; errors: { field: string }[] }>();
    expect(problem.type).toBe('urn:datalab:problem:invalid');
    expect(problem.errors.map((e) => e.field)).toContain(field);
    expect(problem.detail).toContain(field.split('/')[2]);
  });
});
