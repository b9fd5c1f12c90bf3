import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isAppError } from '@datalab/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineFixture, limits, type EngineFixture } from './engine.test-fixtures.ts';
import { readAll } from './run-statement.ts';
import { VERSION_FILE } from './writer.ts';

let fx: EngineFixture;
let uploads: string;
let version = 0;
const nextVersion = (): string => path.join(fx.storageDir, 'ds_new', `v${++version}`);

beforeAll(async () => {
  fx = await engineFixture();
  uploads = path.join(fx.root, 'uploads');
  await mkdir(uploads, { recursive: true });
});
afterAll(async () => {
  await fx.close();
});

async function readVersion(outDir: string, columns: string[]): Promise<unknown[][]> {
  const datasets = { written: { files: [path.join(outDir, VERSION_FILE)], columns } };
  const { rows } = await readAll(await fx.engine.query({ sql: 'SELECT * FROM written', datasets, limits }));
  return rows;
}

describe('trusted writes of new versions', () => {
  it('reads a CSV with explicit options and writes it as one zstd Parquet file', async () => {
    const input = path.join(uploads, 'people.csv');
    await writeFile(input, 'id;name;born\n1;Ada;1815-12-10\n2;"Grace; H";1906-12-09\n3;NA;\n');
    const outDir = nextVersion();
    const written = await fx.engine.writer.fromFile({
      input,
      outDir,
      reader: {
        format: 'csv',
        delimiter: ';',
        header: true,
        nullStrings: ['NA', ''],
        columns: { id: 'BIGINT', name: 'VARCHAR', born: 'DATE' },
      },
    });
    expect(written).toEqual({ files: [path.join(outDir, VERSION_FILE)], rows: 3 });
    expect(await readVersion(outDir, ['id', 'name', 'born'])).toEqual([
      [1, 'Ada', '1815-12-10'],
      [2, 'Grace; H', '1906-12-09'],
      [3, null, null],
    ]);
  });

  it('reads newline-delimited JSON and Parquet', async () => {
    const input = path.join(uploads, 'events.ndjson');
    await writeFile(input, '{"a": 1, "b": "x"}\n{"a": 2, "b": null}\n');
    const jsonDir = nextVersion();
    await fx.engine.writer.fromFile({ input, outDir: jsonDir, reader: { format: 'ndjson' } });
    expect(await readVersion(jsonDir, ['a', 'b'])).toEqual([
      [1, 'x'],
      [2, null],
    ]);
    const parquetDir = nextVersion();
    await fx.engine.writer.fromFile({
      input: path.join(jsonDir, VERSION_FILE),
      outDir: parquetDir,
      reader: { format: 'parquet' },
    });
    expect(await readVersion(parquetDir, ['a', 'b'])).toHaveLength(2);
  });

  it('writes appended rows (as from Excel) cast to their column types', async () => {
    const outDir = nextVersion();
    const written = await fx.engine.writer.fromRows({
      columns: [
        { name: 'n', duckdbType: 'BIGINT' },
        { name: 'x', duckdbType: 'DOUBLE' },
        { name: 'ok', duckdbType: 'BOOLEAN' },
        { name: 'day', duckdbType: 'DATE' },
        { name: 'label', duckdbType: 'VARCHAR' },
      ],
      rows: [
        [
          [1, 0.5, true, '2024-01-02', 'a'],
          [2, null, false, null, "it's"],
        ],
      ],
      outDir,
    });
    expect(written.rows).toBe(2);
    expect(await readVersion(outDir, ['n', 'x', 'ok', 'day', 'label'])).toEqual([
      [1, 0.5, true, '2024-01-02', 'a'],
      [2, null, false, null, "it's"],
    ]);
  });

  it('writes the answer of a guarded SELECT over the datasets it names', async () => {
    const outDir = nextVersion();
    const written = await fx.engine.writer.fromQuery({
      select: 'SELECT region, sum(amount) AS total FROM sales GROUP BY region ORDER BY region',
      datasets: fx.datasets,
      outDir,
    });
    expect(written.rows).toBe(2);
    expect(await readVersion(outDir, ['region', 'total'])).toEqual([
      ['north', '40.50'],
      ['south', '20.25'],
    ]);
  });

  it('writes the columns a shape chooses from the answer, reached by position, in the answer’s order', async () => {
    const outDir = nextVersion();
    let seen: string[] = [];
    const written = await fx.engine.writer.fromQuery({
      select: 'SELECT id AS x, amount AS x, region FROM sales ORDER BY amount DESC',
      datasets: fx.datasets,
      outDir,
      shape: (answer) => {
        seen = answer.map((column) => `${column.name} ${column.type.toString()}`);
        return answer.map((column, index) => ({
          name: `c_${index}`,
          value: (ref) => (index === 1 ? `CAST(${ref} AS DOUBLE)` : ref),
        }));
      },
    });
    expect(seen).toEqual(['x INTEGER', 'x DECIMAL(4,2)', 'region VARCHAR']);
    expect(written.rows).toBe(3);
    expect(await readVersion(outDir, ['c_0', 'c_1', 'c_2'])).toEqual([
      [3, 30, 'north'],
      [2, 20.25, 'south'],
      [1, 10.5, 'north'],
    ]);
  });

  it('names the place in the caller’s own SQL when a shaped query does not bind, writing nothing', async () => {
    const outDir = nextVersion();
    const refused = await fx.engine.writer
      .fromQuery({
        select: 'SELECT id,\n  nope\nFROM sales',
        datasets: fx.datasets,
        outDir,
        shape: (answer) => answer.map((column) => ({ name: column.name, value: (ref) => ref })),
      })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(isAppError(refused) && refused.kind).toBe('invalid');
    expect((refused as Error).message).toMatch(/column "nope" not found.*\(line 2, column 3\)/);
    expect(existsSync(path.join(outDir, VERSION_FILE))).toBe(false);
  });

  it.each([
    ['a file read', "SELECT * FROM read_csv('/etc/passwd')", /read_csv\(\) is not allowed/],
    [
      'a second statement',
      `SELECT 1; COPY (SELECT 1) TO '/tmp/x.csv'`,
      /exactly one statement|Only a SELECT/,
    ],
    [
      'SQL that closes the COPY around it',
      "SELECT 1) TO '/tmp/evil.csv' (FORMAT csv); SELECT (1",
      /syntax error/,
    ],
  ])('refuses %s in a query write before anything is written', async (_what, select, message) => {
    const outDir = nextVersion();
    const refused = await fx.engine.writer.fromQuery({ select, datasets: fx.datasets, outDir }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isAppError(refused) && refused.kind).toBe('invalid');
    expect((refused as Error).message).toMatch(message);
    expect(existsSync(path.join(outDir, VERSION_FILE))).toBe(false);
    expect(existsSync('/tmp/evil.csv')).toBe(false);
  });

  it('reads input files from the upload directory only', async () => {
    const outDir = nextVersion();
    await expect(
      fx.engine.writer.fromFile({
        input: '/etc/passwd',
        outDir,
        reader: { format: 'csv', delimiter: ':', header: false },
      }),
    ).rejects.toThrow(/must be under/);
    expect(existsSync(outDir)).toBe(false);
  });

  it('refuses a version folder outside the storage directory or one already written', async () => {
    const input = path.join(uploads, 'two.csv');
    await writeFile(input, 'a\n1\n');
    const reader = { format: 'csv', delimiter: ',', header: true } as const;
    await expect(
      fx.engine.writer.fromFile({ input, outDir: path.join(fx.root, 'elsewhere'), reader }),
    ).rejects.toThrow(/under/);
    const outDir = nextVersion();
    await fx.engine.writer.fromFile({ input, outDir, reader });
    await expect(fx.engine.writer.fromFile({ input, outDir, reader })).rejects.toThrow(/not empty/);
  });
});
