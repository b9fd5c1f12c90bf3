import { describe, expect, it } from 'vitest';
import { guardSql } from './sql-guard.ts';
import { assertReadsOnly, rewriteReferences } from './sql-rewrite.ts';

const tables = new Map([
  ['sales', 'datasets."t_sales"'],
  ['regions', 'datasets."t_regions"'],
]);

async function rewrite(sql: string) {
  const guarded = await guardSql(sql);
  const rewritten = await rewriteReferences(sql, guarded.references, tables);
  await assertReadsOnly(rewritten.text, new Set(['t_sales', 't_regions']));
  return rewritten;
}

describe('rewriting dataset names to their tables', () => {
  it('keeps the dataset name as the alias so qualified columns still resolve', async () => {
    const { text } = await rewrite('SELECT sales.amount FROM sales');
    expect(text).toBe('SELECT sales.amount FROM datasets."t_sales" AS "sales"');
  });

  it('keeps an alias the caller wrote', async () => {
    const { text } = await rewrite('SELECT s.amount FROM sales s JOIN regions AS r ON r.code = s.region');
    expect(text).toBe(
      'SELECT s.amount FROM datasets."t_sales" s JOIN datasets."t_regions" AS r ON r.code = s.region',
    );
  });

  it('leaves CTE references alone, also when a CTE shadows a dataset name', async () => {
    const { text } = await rewrite(
      'WITH sales AS (SELECT * FROM sales WHERE amount > 0) SELECT * FROM sales',
    );
    expect(text).toBe(
      'WITH sales AS (SELECT * FROM datasets."t_sales" AS "sales" WHERE amount > 0) SELECT * FROM sales',
    );
  });

  it('handles TABLE, ONLY (…), the old inheritance star and quoted names', async () => {
    expect((await rewrite('TABLE sales')).text).toBe('TABLE datasets."t_sales"');
    expect((await rewrite('SELECT * FROM ONLY (sales)')).text).toBe(
      'SELECT * FROM ONLY (datasets."t_sales") AS "sales"',
    );
    expect((await rewrite('SELECT * FROM sales *')).text).toBe(
      'SELECT * FROM datasets."t_sales"* AS "sales"',
    );
    expect((await rewrite('SELECT * FROM "sales"')).text).toBe('SELECT * FROM datasets."t_sales" AS "sales"');
  });

  it('edits at byte offsets, so text with multi-byte characters before a name stays intact', async () => {
    const { text } = await rewrite("SELECT 'naïve — ü' AS note FROM sales");
    expect(text).toBe('SELECT \'naïve — ü\' AS note FROM datasets."t_sales" AS "sales"');
  });

  it('maps a position in the rewritten text back to the caller’s text', async () => {
    const sql = 'SELECT x FROM sales, regions WHERE nope = 1';
    const rewritten = await rewrite(sql);
    const inRewritten = Buffer.byteLength(rewritten.text.slice(0, rewritten.text.indexOf('nope')));
    expect(rewritten.originalOffset(inRewritten)).toBe(sql.indexOf('nope'));
    expect(rewritten.originalOffset(rewritten.text.indexOf('datasets."t_regions"') + 3)).toBe(
      sql.indexOf('regions'),
    );
  });

  it('refuses to run a rewrite that reads anything but the resolved tables', async () => {
    await expect(assertReadsOnly('SELECT * FROM datasets."t_other"', new Set(['t_sales']))).rejects.toThrow(
      /t_other/,
    );
    await expect(assertReadsOnly('SELECT * FROM sales', new Set(['t_sales']))).rejects.toThrow(/no schema/);
  });
});
