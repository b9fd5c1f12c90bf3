import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tricklingUpload } from '../slow-writer.ts';
import { parquet, python, removeFiles, WORKBOOK } from './files.fixtures.ts';
import { bearer, expectProblem, startStack, type Stack } from './stack.ts';

/**
 * API4:2023 Unrestricted Resource Consumption — what one upload may take from everyone else: the
 * data-service's database connections (an upload is received whole before a transaction opens, and
 * one slower than DATA_UPLOAD_MIN_BYTES_PER_SECOND is ended with 408), and its memory (a Parquet
 * row group or an Excel shared strings table is bounded by bytes before it is decoded).
 */

const MIB = 1024 * 1024;

const POOL_SIZE = 2;
const WINDOW_MS = 3000;

describe('uploads cannot exhaust what other users need', () => {
  let stack: Stack;
  let editor: string;
  let reader: string;

  beforeAll(async () => {
    stack = await startStack({
      DATABASE_POOL_SIZE: String(POOL_SIZE),
      DATA_UPLOAD_RATE_WINDOW_MS: String(WINDOW_MS),
      DATA_UPLOAD_MIN_BYTES_PER_SECOND: '1024',
      DATA_MAX_ROW_GROUP_BYTES: String(4 * MIB),
      DATA_MAX_SHARED_STRINGS_BYTES: String(MIB),
    });
    editor = (await stack.signedIn('editor')).token;
    reader = (await stack.signedIn('viewer')).token;
  }, 180_000);
  afterAll(async () => {
    await stack?.close();
    await removeFiles();
  });

  const upload = (file: Buffer, filename: string) => {
    const form = new FormData();
    form.append('file', new Blob([file]), filename);
    return fetch(`${stack.url}/api/v1/data/datasets`, {
      method: 'POST',
      headers: bearer(editor),
      body: form,
    });
  };

  const list = (token: string) =>
    fetch(`${stack.url}/api/v1/data/datasets`, { headers: bearer(token), signal: AbortSignal.timeout(5000) });

  it('lists datasets for others while more uploads than the pool has connections trickle in, then ends those with 408', async () => {
    const started = Date.now();
    // Past the 64 KiB the gateway gathers whole before passing on: this body streams to the data-service.
    const csv = `n,word\n${Array.from({ length: 10_000 }, (_, i) => `${i},w${i}`).join('\n')}\n`;
    const trickles = Array.from({ length: POOL_SIZE * 2 }, (_, i) =>
      tricklingUpload(
        stack.url,
        '/api/v1/data/datasets',
        bearer(editor),
        { name: `slow_${i}.csv`, content: csv },
        { fastBytes: 80_000, everyMs: 250 },
      ),
    );
    // Every upload's first 80 kB are in; the rest arrives at 4 bytes a second.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    for (let i = 0; i < 3; i++) {
      const listed = await list(reader);
      expect(listed.status, await listed.clone().text()).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const answers = await Promise.all(trickles);
    for (const answer of answers) {
      expect(answer.status, answer.body).toBe(408);
      expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
      const problem = JSON.parse(answer.body) as { detail: string; limit: string };
      expect(problem.detail).toMatch(/at least 1024 are required \(DATA_UPLOAD_MIN_BYTES_PER_SECOND\)/);
      expect(problem.limit).toBe('DATA_UPLOAD_MIN_BYTES_PER_SECOND');
    }
    // Refused once the first window (the grace period) is over, not at once and not much later.
    expect(Date.now() - started).toBeGreaterThanOrEqual(WINDOW_MS);
    expect(Date.now() - started).toBeLessThan(WINDOW_MS * 4);
    const mine = (await (await list(editor)).json()) as { total: number };
    expect(mine.total).toBe(0);
    stack.assertAlive();
  });

  it('refuses a Parquet row group past DATA_MAX_ROW_GROUP_BYTES, naming it, and loads the same rows in smaller groups', async () => {
    const rows = 'SELECT i, i % 7 AS kind FROM range(600000) t(i)';
    const whole = await parquet(rows, 'one-group.parquet');
    const problem = await expectProblem(await upload(whole, 'one_group.parquet'), 413);
    expect(problem.detail).toMatch(
      /row group 1 would take more than the 4194304 bytes .*\(DATA_MAX_ROW_GROUP_BYTES\)/,
    );
    expect(problem.errors).toEqual([expect.objectContaining({ field: 'line 1' })]);
    const split = await upload(await parquet(rows, 'groups.parquet', 20_000), 'groups.parquet');
    expect(split.status, await split.clone().text()).toBe(201);
    expect(((await split.json()) as { rows_written: number }).rows_written).toBe(600_000);
  });

  it('refuses an xlsx whose shared strings pass DATA_MAX_SHARED_STRINGS_BYTES before holding them, and loads a smaller one', async () => {
    const big = await python(`${WORKBOOK}\nworkbook(sys.argv[1], SST % ('x' * 2_000_000))`, 'big-sst.xlsx');
    const problem = await expectProblem(await upload(big, 'big_sst.xlsx'), 413);
    expect(problem.detail).toMatch(
      /"xl\/sharedStrings.xml" is \d+ bytes unpacked; at most 1048576 .*\(DATA_MAX_SHARED_STRINGS_BYTES\)/,
    );
    const small = await python(`${WORKBOOK}\nworkbook(sys.argv[1], SST % ('x' * 500_000))`, 'small-sst.xlsx');
    const loaded = await upload(small, 'small_sst.xlsx');
    expect(loaded.status, await loaded.clone().text()).toBe(201);
    stack.assertAlive();
  });
});
