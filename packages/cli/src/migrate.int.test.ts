import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrate, type Database } from '@datalab/platform';
import { silentLogger, testDatabase } from '../../../test/helpers.ts';
import { spawnTs } from '../../../test/processes.ts';
import { allServices } from './services.ts';

describe('the services’ own migrations', () => {
  let db: Database;
  beforeAll(async () => {
    db = await testDatabase();
  });
  afterAll(() => db.close());

  it('apply once however many instances start at the same time, and are a no-op the second time', async () => {
    const runs = allServices.flatMap((service) =>
      [1, 2, 3].map(() =>
        migrate(db.pool, { schema: service.schema, directory: service.migrationsDir, logger: silentLogger }),
      ),
    );
    await Promise.all(runs);

    for (const service of allServices) {
      const files = (await readdir(service.migrationsDir)).filter((f) => f.endsWith('.sql')).sort();
      const applied = await db.pool.query<{ name: string }>(
        `SELECT name FROM ${service.schema}.schema_migrations ORDER BY name`,
      );
      expect(applied.rows.map((r) => r.name)).toEqual(files);
      expect(
        await migrate(db.pool, {
          schema: service.schema,
          directory: service.migrationsDir,
          logger: silentLogger,
        }),
      ).toEqual([]);
    }
  });

  it('create each service’s own schemas', async () => {
    const schemas = await db.pool.query<{ nspname: string }>('SELECT nspname FROM pg_namespace');
    expect(schemas.rows.map((r) => r.nspname)).toEqual(
      expect.arrayContaining(['auth', 'audit', 'data', 'datasets', 'ai', 'compute', 'viz']),
    );
  });

  it('run from the command line with `datalab migrate`', async () => {
    const run = spawnTs('packages/cli/src/main.ts', ['migrate'], {
      DATABASE_URL: inject('databaseUrl'),
      LOG_LEVEL: 'warn',
    });
    expect((await run.exited).code).toBe(0);
    for (const service of allServices) expect(run.output()).toContain(`${service.name}: up to date`);
  });
});
