import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type Platform, type RunningService } from '@datalab/platform';
import { testEnv, testPlatform, uniqueName } from '../../../../test/helpers.ts';
import { callAs, person, uploadForm } from '../../../../test/internal.ts';
import { queryOnce } from '../../../../test/processes.ts';
import { dataService } from '../definition.ts';

const DATASETS = '/api/v1/data/datasets';

/**
 * A UTF-8 CSV with on_error=fail takes the fast path (the file's bytes into COPY … FORMAT csv);
 * with on_error=skip the same file takes the general path (csv-parse, our checks, COPY text).
 * Whatever the file holds, both must store the same values.
 */
const header = 'code,n,price,ok,day,at,label,note\n';
const tricky = [
  '007,+5,1.50,Yes,2024-02-29,2024-03-01T10:00:05Z,plain,"quoted, with comma"',
  '010, 42 ,-0.25,no,2024-01-01,2024-03-01 10:00,"  padded  ",   ',
  'A1,-0,1e3,TRUE,2024-12-31,2024-03-01T10:00:00.123456789+05:30,"multi\nline ""quoted""",',
  '"",18,.5,f,"2020-01-01",2024-03-01,5" screen,""',
  '0x1,,3.,F,,2024-03-01t10:00:00z,Zürich ☕,\\.',
  'z,9007199254740993,12345678901234567,t,0001-01-01,2024-03-01T10:00+02,"",tab\there',
  '',
  'q,1,2,false,2024-06-30,2024-06-30T23:59:59-03,"é, ü",last',
];

describe('the CSV fast path', () => {
  let platform: Platform;
  let data: RunningService;
  const owner = person('editor');

  beforeAll(async () => {
    platform = await testPlatform();
    data = await startService(dataService, platform, { env: testEnv(), port: 0 });
  });
  afterAll(async () => {
    await data.close();
    await platform.close();
  });

  const upload = (csv: string, fields: Record<string, string>) =>
    callAs(platform, data, owner, DATASETS, { method: 'POST', body: uploadForm(csv, 'data.csv', fields) });

  async function stored(name: string): Promise<{ columns: unknown; rows: Record<string, unknown>[] }> {
    const [dataset] = await queryOnce(
      platform.databaseUrl,
      `SELECT table_name, columns FROM data.datasets WHERE name = '${name}'`,
    );
    const rows = await queryOnce(
      platform.databaseUrl,
      `SELECT to_jsonb(t) - '_row_id' AS row FROM datasets."${String(dataset!.table_name)}" t ORDER BY _row_id`,
    );
    return { columns: dataset!.columns, rows };
  }

  it('stores exactly what the general path stores, for values of every kind', async () => {
    const csv = header + tricky.join('\n') + '\n';
    const fast = uniqueName('fast');
    const general = uniqueName('general');
    expect((await upload(csv, { name: fast })).status).toBe(201);
    const answer = await upload(csv, { name: general, on_error: 'skip' });
    expect(answer.status).toBe(201);
    expect(((await answer.json()) as { rejects: { count: number } }).rejects.count).toBe(0);

    const [a, b] = [await stored(fast), await stored(general)];
    expect(a.columns).toEqual(b.columns);
    expect(a.rows).toEqual(b.rows);
    expect(a.rows).toHaveLength(7);
    expect(a.rows[1]).toMatchObject({ row: { code: '010', n: 42, label: '  padded  ', note: null } });
  });

  it('names the file line and column of a value PostgreSQL itself refuses, and leaves nothing behind', async () => {
    const name = uniqueName('refused');
    // 1e-400 passes our float check (it reads as 0) but is out of range for PostgreSQL.
    const rows = Array.from({ length: 3000 }, (_, i) => `${i},"two\nlines",${i}.5`);
    rows[2500] = '2500,"two\nlines",1e-400';
    const response = await upload(`n,text,x\n\n${rows.join('\n')}\n`, { name });
    const problem = (await response.json()) as {
      rows: { line: number; column: string; value: string; expected: string }[];
    };
    expect(response.status).toBe(400);
    // Header, a blank line, then two lines per row: row 2500 is on lines 5003-5004; PostgreSQL names
    // the line a record ends on.
    expect(problem.rows[0]).toMatchObject({ line: 5004, column: 'x', value: '1e-400', expected: 'float' });
    const left = await queryOnce(platform.databaseUrl, `SELECT 1 FROM data.datasets WHERE name = '${name}'`);
    expect(left).toEqual([]);
  });
});
