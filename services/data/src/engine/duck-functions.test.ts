import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { ALLOWED_FUNCTIONS, ALLOWED_TABLE_FUNCTIONS, DENIED_FUNCTION_FAMILIES } from './duck-functions.ts';

async function functionsOfDuckDB(): Promise<Map<string, Set<string>>> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(
      'SELECT DISTINCT function_name, function_type FROM duckdb_functions()',
    );
    const byName = new Map<string, Set<string>>();
    for (const [name, type] of reader.getRowsJS() as [string, string][]) {
      byName.set(name, (byName.get(name) ?? new Set()).add(type));
    }
    return byName;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

const denied = (name: string): boolean => DENIED_FUNCTION_FAMILIES.some((family) => family.test(name));

describe('the function allowlists', () => {
  it('name only functions this DuckDB has, of the right kind', async () => {
    const duckdb = await functionsOfDuckDB();
    const scalarKinds = new Set(['scalar', 'aggregate', 'macro']);
    const missing = [...ALLOWED_FUNCTIONS].filter(
      (name) => ![...(duckdb.get(name) ?? [])].some((kind) => scalarKinds.has(kind)),
    );
    expect(missing).toEqual([]);
    const tables = [...ALLOWED_TABLE_FUNCTIONS].filter((name) => !duckdb.get(name)?.has('table'));
    expect(tables).toEqual([]);
  });

  it('allow nothing from the families that read files, settings, the catalog or SQL text', () => {
    expect([...ALLOWED_FUNCTIONS].filter(denied)).toEqual([]);
    expect([...ALLOWED_TABLE_FUNCTIONS].filter(denied)).toEqual([]);
  });

  it('leave every scalar function this DuckDB adds unreviewed, and so refused, until it is listed', async () => {
    // A DuckDB upgrade that adds functions changes this list: review each, then allow it or add its family to the denied ones.
    const duckdb = await functionsOfDuckDB();
    const unreviewed = [...duckdb.entries()]
      .filter(([, kinds]) => !kinds.has('table') && !kinds.has('pragma') && !kinds.has('table_macro'))
      .map(([name]) => name)
      .filter((name) => !ALLOWED_FUNCTIONS.has(name) && !denied(name))
      .sort();
    expect(unreviewed).toEqual([]);
  });
});
