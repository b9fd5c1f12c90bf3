import { describe, expect, it } from 'vitest';
import { load, refusal, typesOf } from './testing.ts';
import { MAX_JSON_DEPTH } from './json.ts';

describe('JSON ingestion', () => {
  it('round-trips an array of objects, with nested values as JSON and missing keys as null', async () => {
    const json = JSON.stringify([
      { id: 1, name: 'Zoë 😀', tags: ['a', 'b'], price: 1.5, ok: true, day: '2024-02-29', code: '007' },
      {
        id: 2,
        name: 'brace } and bracket ] in "quotes"',
        tags: [],
        price: 2,
        ok: false,
        day: '2024-03-01',
        code: '12',
      },
      {
        id: 3,
        name: null,
        meta: { deep: { er: [1, { x: 'y' }] } },
        price: 3,
        ok: null,
        day: null,
        code: 'x',
      },
    ]);
    const { result, columns, rows } = await load(`  \n${json}\n`, { filename: 'items.json' });

    expect(result.format).toBe('json');
    expect(typesOf(columns)).toEqual({
      id: 'integer',
      name: 'text',
      tags: 'json',
      price: 'float',
      ok: 'boolean',
      day: 'date',
      code: 'text',
      meta: 'json',
    });
    expect(rows).toEqual([
      ['1', 'Zoë 😀', '["a","b"]', '1.5', 't', '2024-02-29', '007', null],
      ['2', 'brace } and bracket ] in "quotes"', '[]', '2', 'f', '2024-03-01', '12', null],
      ['3', null, null, '3', null, null, 'x', '{"deep":{"er":[1,{"x":"y"}]}}'],
    ]);
  });

  it('keeps JSON strings as text even when they look like numbers', async () => {
    const { columns } = await load('[{"zip":"12345","n":"7"},{"zip":"54321","n":"8"}]');
    expect(typesOf(columns)).toEqual({ zip: 'text', n: 'text' });
  });

  it('reads an empty array of objects as no columns, which is refused', async () => {
    const error = await refusal('[ ]', { filename: 'empty.json' });
    expect(error.message).toBe('No columns: the file holds no JSON objects');
  });

  it('reads NDJSON, one object per line, skipping blank lines', async () => {
    const ndjson = '{"a":1,"b":"x"}\r\n\n{"a":2,"b":"y\\nz"}\n{"b":"w"}';
    const { result, rows } = await load(ndjson, { filename: 'events.ndjson' });
    expect(result.format).toBe('ndjson');
    expect(rows).toEqual([
      ['1', 'x'],
      ['2', 'y\nz'],
      [null, 'w'],
    ]);
  });

  it('recognises NDJSON in a .json file and JSON without an extension', async () => {
    expect((await load('{"a":1}\n{"a":2}\n', { filename: 'x.json' })).result.format).toBe('ndjson');
    expect((await load('[{"a":1}]')).result.format).toBe('json');
  });

  it('names the element of an array that is not an object, and the line of an NDJSON line that is not JSON', async () => {
    const array = await refusal('[{"a":1},{"a":2},5,{"a":4}]');
    expect(array.errors).toEqual([{ line: 3, message: 'expected a JSON object, got 5' }]);

    const ndjson = await refusal('{"a":1}\n{"a":2}\n\n{"a":\n', { filename: 'x.ndjson' });
    expect(ndjson.errors[0]).toMatchObject({ line: 4 });
    expect(ndjson.errors[0]!.message).toMatch(/^not valid JSON/);
  });

  it('refuses a key first seen after the sample, naming its line; with skip, leaves that row out', async () => {
    const lines = ['{"a":1}', '{"a":2}', '{"a":3,"late":true}', '{"a":4}'].join('\n');
    const error = await refusal(lines, { filename: 'x.ndjson', limits: { sampleRows: 2 } });
    expect(error.errors).toEqual([
      {
        line: 3,
        column: 'late',
        message: 'the key "late" is not among the columns found in the first 2 rows',
      },
    ]);

    const skipped = await load(lines, { filename: 'x.ndjson', onError: 'skip', limits: { sampleRows: 2 } });
    expect(skipped.rows).toEqual([['1'], ['2'], ['4']]);
    expect(skipped.result.rowsRejected).toBe(1);
  });

  it('refuses a JSON array that is never closed, or has content after it', async () => {
    expect((await refusal('[{"a":1},{"a":2}')).message).toBe(
      'Line 3: the file ends before the JSON array is closed',
    );
    expect((await refusal('[{"a":1}] x')).message).toBe('Line 2: there is more after the end of the array');
    expect((await refusal('[{"a":1} {"a":2}]')).message).toBe(
      'Line 2: expected "," or "]" after the element before',
    );
  });

  it('explains a pretty-printed object, which is neither an array nor one object per line', async () => {
    const error = await refusal('{\n  "a": 1\n}\n', { filename: 'config.json' });
    expect(error.message).toMatch(
      /^Line 1: not valid JSON: .*; a JSON file holds an array of objects, or one object per line$/,
    );
  });

  it('refuses a JSON file that holds neither an array nor objects', async () => {
    const error = await refusal('"just a string"', { filename: 'x.json' });
    expect(error.message).toBe('A JSON file must hold an array of objects, or one object per line (NDJSON)');
  });

  it('refuses an object with more keys than columns allowed, on its line', async () => {
    const wide = JSON.stringify(Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i])));
    const error = await refusal(`[{"a":1},${wide}]`, { limits: { maxColumns: 20 } });
    expect(error.kind).toBe('too_large');
    expect(error.message).toBe('Line 2: the file has 21 columns; at most 20 are allowed');
  });
});

describe('deeply nested JSON', () => {
  it('refuses a value nested deeper than MAX_JSON_DEPTH, naming its line, in JSON and NDJSON', async () => {
    const deep = `{"a":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`;
    for (const [filename, file] of [
      ['x.json', `[{"a":1},\n${deep}]`],
      ['x.ndjson', `{"a":1}\n${deep}\n`],
    ]) {
      const error = await refusal(file!, { filename });
      expect(error.message).toMatch(/line 2: the value is nested deeper than 512 levels/);
    }
  });

  it('loads a value nested as deep as MAX_JSON_DEPTH', async () => {
    const nested = `${'['.repeat(MAX_JSON_DEPTH - 1)}1${']'.repeat(MAX_JSON_DEPTH - 1)}`;
    const { result } = await load(`{"a":${nested}}\n`, { filename: 'x.ndjson' });
    expect(result.rowsWritten).toBe(1);
  });
});
