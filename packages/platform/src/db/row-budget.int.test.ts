import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { silentLogger } from '../../../../test/helpers.ts';
import { AppError } from '../errors/errors.ts';
import { connectDatabase, type Database } from './database.ts';
import { limitRows, type RowBudget } from './row-budget.ts';

const MB = 1024 * 1024;

function budget(maxRowBytes: number, maxTotalBytes: number): RowBudget {
  return {
    maxRowBytes,
    maxTotalBytes,
    exceeded: (what) => new AppError('too_large', `the ${what} budget was passed`),
  };
}

describe('a DataLab pool reads the length of each message before the message itself', () => {
  let db: Database;

  beforeAll(async () => {
    db = await connectDatabase({
      url: inject('databaseUrl'),
      poolSize: 2,
      connectTimeoutMs: 5000,
      applicationName: 'datalab-test-row-budget',
      logger: silentLogger,
      maxMessageBytes: 4 * MB,
    });
  });
  afterAll(() => db?.close());

  it('fails a query whose row passes the process ceiling, and the pool keeps serving', async () => {
    const huge = db.pool.query(`SELECT repeat('x', 5 * 1024 * 1024) AS s`);
    await expect(huge).rejects.toMatchObject({
      kind: 'too_large',
      message: expect.stringMatching(/larger than the 4 MiB .*DATABASE_MAX_MESSAGE_BYTES/) as unknown,
    });
    const after = await db.pool.query<{ n: number }>('SELECT 1 AS n');
    expect(after.rows).toEqual([{ n: 1 }]);
  });

  it('passes rows up to the ceiling through untouched', async () => {
    const { rows } = await db.pool.query<{ s: string }>(`SELECT repeat('y', 3 * 1024 * 1024) AS s`);
    expect(rows[0]!.s.length).toBe(3 * MB);
  });

  it('fails the query at the checkout’s row budget: one row too big, or all rows together', async () => {
    const client = await db.pool.connect();
    let broken = false;
    client.on('error', () => (broken = true));
    try {
      limitRows(client, budget(1000, 10_000));
      await expect(client.query(`SELECT repeat('z', 2000)`)).rejects.toThrow('the row budget was passed');
    } finally {
      client.release(true);
    }
    expect(broken).toBe(true);

    const again = await db.pool.connect();
    again.on('error', () => undefined);
    try {
      limitRows(again, budget(1000, 10_000));
      const small = await again.query(`SELECT g FROM generate_series(1, 100) g`);
      expect(small.rows).toHaveLength(100);
      await expect(again.query(`SELECT g FROM generate_series(1, 2000) g`)).rejects.toThrow(
        'the total budget was passed',
      );
    } finally {
      again.release(true);
    }
  });

  it('counts nothing once the budget is lifted', async () => {
    const client = await db.pool.connect();
    try {
      limitRows(client, budget(100, 100));
      limitRows(client, undefined);
      const { rows } = await client.query(`SELECT g FROM generate_series(1, 5000) g`);
      expect(rows).toHaveLength(5000);
    } finally {
      client.release();
    }
  });
});
