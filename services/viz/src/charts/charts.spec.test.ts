import { describe, expect, it } from 'vitest';
import { AppError } from '@datalab/platform';
import { assertValidSpec, MAX_SPEC_BYTES, MAX_SPEC_DEPTH } from './charts.spec.ts';

function refusal(spec: unknown): AppError {
  try {
    assertValidSpec(spec, '/spec');
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('the spec was accepted');
}

describe('checking a chart spec', () => {
  it('accepts a Vega-Lite spec with inline values, even one whose $schema value is a URL', () => {
    const spec = {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      data: { values: [{ a: 'A', b: 28 }] },
      mark: 'bar',
      encoding: { x: { field: 'a', type: 'nominal' }, y: { field: 'b', type: 'quantitative' } },
    };
    expect(() => assertValidSpec(spec, '/spec')).not.toThrow();
  });

  it.each([
    ['an array', []],
    ['a string', 'bar'],
    ['null', null],
  ])('refuses %s: a spec is a JSON object', (_what, spec) => {
    const error = refusal(spec);
    expect(error.kind).toBe('invalid');
    expect(error.errors).toEqual([{ field: '/spec', message: 'must be a JSON object' }]);
  });

  it('names every url key by its JSON pointer, in arrays and nested objects alike', () => {
    const error = refusal({
      data: { url: 'https://example.com/data.csv' },
      layer: [{ mark: 'image', encoding: { url: { field: 'picture' } } }],
    });
    expect(error.kind).toBe('invalid');
    expect(error.errors?.map((e) => e.field)).toEqual(['/spec/data/url', '/spec/layer/0/encoding/url']);
  });

  it('escapes ~ and / in the keys of the pointer it names (RFC 6901)', () => {
    const error = refusal({ 'a/b': { '~c': { url: 'x' } } });
    expect(error.errors?.map((e) => e.field)).toEqual(['/spec/a~1b/~0c/url']);
  });

  it('lets a url value through when it is not a key: only keys are what Vega would fetch', () => {
    expect(() => assertValidSpec({ usermeta: { source: 'url' }, values: ['url'] }, '/spec')).not.toThrow();
  });

  it('refuses a spec larger than 256 KiB serialized as too large', () => {
    const error = refusal({ data: { values: ['x'.repeat(MAX_SPEC_BYTES)] } });
    expect(error.kind).toBe('too_large');
    expect(error.errors?.[0]?.field).toBe('/spec');
  });

  it('refuses nesting deeper than any real spec, without overflowing the stack', () => {
    let spec: Record<string, unknown> = {};
    for (let level = 0; level < 100_000; level += 1) spec = { a: spec };
    const error = refusal(spec);
    expect(error.kind).toBe('invalid');
    expect(error.errors?.[0]?.field).toBe(`/spec${'/a'.repeat(MAX_SPEC_DEPTH)}`);
  });
});
