import { describe, expect, it } from 'vitest';
import { AppError } from '@datalab/platform';
import type { Dataset } from '../datasets/datasets.types.ts';
import type { StructuredQuery } from './query.schemas.ts';
import { compileStructured } from './structured.ts';

const dataset = {
  id: '6f1d4c1e-0000-4000-8000-000000000001',
  name: 'sales',
  tableName: 't_abc',
  columns: [
    { name: 'region', original_name: 'Region', type: 'text' },
    { name: 'amount', original_name: 'Amount', type: 'float' },
    { name: 'units', original_name: 'Units', type: 'integer' },
    { name: 'paid', original_name: 'Paid', type: 'boolean' },
    { name: 'meta', original_name: 'Meta', type: 'json' },
  ],
} as Dataset;

const compile = (query: Omit<StructuredQuery, 'dataset'>) =>
  compileStructured({ dataset: 'sales', ...query }, dataset);

function refusal(query: Omit<StructuredQuery, 'dataset'>): AppError {
  try {
    compile(query);
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('compiling a structured query', () => {
  it('selects every column in arrival order by default', () => {
    expect(compile({})).toEqual({
      text: 'SELECT "region", "amount", "units", "paid", "meta" FROM datasets."t_abc" ORDER BY "_row_id"',
      values: [],
    });
  });

  it('passes every value as a parameter, never as SQL text', () => {
    const hostile = "'; DROP TABLE x; --";
    const statement = compile({
      select: ['region', { column: 'amount', as: 'total' }],
      filters: [
        { column: 'region', op: '=', value: hostile },
        { column: 'units', op: 'in', value: [1, '2'] },
        { column: 'region', op: 'contains', value: 'no"rth' },
        { column: 'paid', op: 'not_null' },
      ],
      order_by: [{ column: 'total', direction: 'desc' }],
      limit: 10,
      offset: 5,
    });
    expect(statement.text).toBe(
      'SELECT "region", "amount" AS "total" FROM datasets."t_abc" WHERE "region" = $1 AND "units" = ANY($2) AND strpos("region"::text, $3) > 0 AND "paid" IS NOT NULL ORDER BY "total" DESC LIMIT $4 OFFSET $5',
    );
    expect(statement.values).toEqual([hostile, [1, '2'], 'no"rth', 10, 5]);
    expect(statement.text).not.toContain('DROP');
  });

  it('groups and aggregates, ordering groups by their keys unless told otherwise', () => {
    const statement = compile({
      group_by: ['region'],
      aggregates: [
        { fn: 'count', as: 'rows' },
        { fn: 'sum', column: 'amount', as: 'total' },
        { fn: 'count_distinct', column: 'units', as: 'kinds' },
      ],
    });
    expect(statement.text).toBe(
      'SELECT "region", count(*) AS "rows", sum("amount") AS "total", count(DISTINCT "units") AS "kinds" FROM datasets."t_abc" GROUP BY "region" ORDER BY "region"',
    );
  });

  it('names the JSON pointer of an unknown column', () => {
    const error = refusal({
      filters: [
        { column: 'region', op: '=', value: 'x' },
        { column: 'nope', op: '=', value: 1 },
      ],
    });
    expect(error.errors).toEqual([
      { field: '/body/filters/1/column', message: 'dataset "sales" has no column "nope"' },
    ]);
  });

  it('refuses a selected column that is neither grouped nor aggregated', () => {
    const error = refusal({
      select: ['region', 'units'],
      group_by: ['region'],
      aggregates: [{ fn: 'count', as: 'n' }],
    });
    expect(error.errors?.[0]?.field).toBe('/body/select/1');
    expect(error.message).toMatch(/must be in group_by/);
  });

  it.each([
    [
      'a sum of text',
      { aggregates: [{ fn: 'sum' as const, column: 'region', as: 's' }] },
      '/body/aggregates/0/column',
    ],
    [
      'a text value for an integer column',
      { filters: [{ column: 'units', op: '>' as const, value: 'many' }] },
      '/body/filters/0/value',
    ],
    [
      'a number for a boolean column',
      { filters: [{ column: 'paid', op: '=' as const, value: 1 }] },
      '/body/filters/0/value',
    ],
    [
      'in without a list',
      { filters: [{ column: 'units', op: 'in' as const, value: 3 }] },
      '/body/filters/0/value',
    ],
    ['= without a value', { filters: [{ column: 'units', op: '=' as const }] }, '/body/filters/0/value'],
    [
      'comparing a json column',
      { filters: [{ column: 'meta', op: '=' as const, value: 'x' }] },
      '/body/filters/0/op',
    ],
    [
      'ordering groups by an ungrouped column',
      { group_by: ['region'], order_by: [{ column: 'units' }] },
      '/body/order_by/0/column',
    ],
    [
      'two answer columns with one name',
      {
        select: [
          { column: 'region', as: 'x' },
          { column: 'units', as: 'x' },
        ],
      },
      '/body/select/1',
    ],
  ])('refuses %s, naming where', (_what, query, field) => {
    expect(refusal(query).errors?.[0]?.field).toBe(field);
  });
});
