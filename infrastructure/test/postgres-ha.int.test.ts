import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase } from '@datalab/platform';
import { silentLogger } from '../../test/helpers.ts';
import { freePort, repoRoot } from '../../test/processes.ts';
import {
  asPostgres,
  baseBackup,
  initPrimary,
  node,
  PG_BIN,
  postgresTempDir,
  query,
  removeTempDir,
  writeConfig,
  type Node,
} from './lib/postgres-cluster.ts';

const STANZA = 'datalab';

/** The shipped pgBackRest configuration with this test's paths and port in place of the host's. */
async function pgbackrestConfig(dir: string, primary: Node): Promise<string> {
  const shipped = await readFile(
    path.join(repoRoot, 'infrastructure', 'postgres', 'pgbackrest.conf'),
    'utf8',
  );
  const local: Record<string, string> = {
    'repo1-path': path.join(dir, 'repo'),
    'log-path': dir,
    'lock-path': path.join(dir, 'lock'),
    'pg1-path': primary.dataDir,
    'pg1-port': String(primary.port),
    'pg1-socket-path': dir,
  };
  const text = shipped.replace(/^([a-z0-9-]+)=.*$/gm, (line, key: string) =>
    key in local ? `${key}=${local[key]}` : line,
  );
  const file = path.join(dir, 'pgbackrest.conf');
  await writeConfig(file, text);
  return file;
}

describe.skipIf(!existsSync(path.join(PG_BIN, 'initdb')))(
  'PostgreSQL replica and pgBackRest, for real on loopback',
  () => {
    let dir: string;
    let primary: Node;
    let replica: Node;
    let restored: Node | undefined;
    let config: string;
    const pgbackrest = (...args: string[]) =>
      asPostgres('pgbackrest', [`--config=${config}`, `--stanza=${STANZA}`, ...args]);

    beforeAll(async () => {
      dir = await postgresTempDir('datalab-pg-ha-');
      const socketDir = dir;
      primary = node(path.join(dir, 'primary'), await freePort(), socketDir);
      config = await pgbackrestConfig(dir, primary);
      await initPrimary(primary.dataDir, {
        wal_level: 'replica',
        max_wal_senders: '5',
        archive_mode: 'on',
        archive_command: `pgbackrest --config=${config} --stanza=${STANZA} archive-push %p`,
        fsync: 'off',
      });
      await primary.start();
      await pgbackrest('stanza-create');
      replica = node(path.join(dir, 'replica'), await freePort(), socketDir);
      await baseBackup(primary, replica.dataDir);
      await replica.start();
      await query(primary.url, 'CREATE TABLE ledger (id integer PRIMARY KEY, note text NOT NULL)');
    });

    afterAll(async () => {
      for (const each of [restored, replica, primary]) await each?.stop();
      if (dir) await removeTempDir(dir);
    });

    it('serves READ_DATABASE_URL reads from a streaming replica that follows every write on the primary', async () => {
      const db = await connectDatabase({
        url: primary.url,
        readUrl: replica.url,
        poolSize: 2,
        connectTimeoutMs: 5000,
        applicationName: 'datalab-replica-test',
        logger: silentLogger,
      });
      try {
        await db.pool.query(`INSERT INTO ledger SELECT g, 'streamed' FROM generate_series(1, 50) g`);
        const lsn = (await db.pool.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn'))
          .rows[0]!.lsn;
        const deadline = Date.now() + 10_000;
        while (
          !(
            await db.readPool.query<{ caught: boolean }>(
              'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS caught',
              [lsn],
            )
          ).rows[0]!.caught
        ) {
          if (Date.now() > deadline) throw new Error('the replica did not catch up in 10 s');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }

        const read = await db.readPool.query<{ standby: boolean; rows: number }>(
          `SELECT pg_is_in_recovery() AS standby, count(*)::int AS rows FROM ledger WHERE note = 'streamed'`,
        );
        const written = await db.pool.query<{ standby: boolean }>('SELECT pg_is_in_recovery() AS standby');
        expect(read.rows[0]).toEqual({ standby: true, rows: 50 });
        expect(written.rows[0]).toEqual({ standby: false });
        await expect(db.readPool.query(`INSERT INTO ledger VALUES (9999, 'refused')`)).rejects.toThrow(
          /read-only/,
        );
      } finally {
        await db.close();
      }
    });

    it('restores a pgBackRest backup to a point in time between two batches of writes: exactly the rows committed before it', async () => {
      await query(
        primary.url,
        `INSERT INTO ledger SELECT g, 'before backup' FROM generate_series(101, 200) g`,
      );
      await pgbackrest('backup', '--type=full');
      // pgBackRest records a backup's stop time in whole seconds: the target must come after it.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await query(
        primary.url,
        `INSERT INTO ledger SELECT g, 'after backup' FROM generate_series(201, 300) g`,
      );
      const [row] = await query<{ target: string }>(primary.url, `SELECT clock_timestamp()::text AS target`);
      const target = row!.target;
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await query(primary.url, `INSERT INTO ledger SELECT g, 'too late' FROM generate_series(301, 400) g`);
      await query(primary.url, 'DELETE FROM ledger WHERE id <= 10');
      // Closes the WAL segment so the archive holds every commit up to now.
      await query(primary.url, 'SELECT pg_switch_wal()');
      await pgbackrest('check');

      restored = node(path.join(dir, 'restored'), await freePort(), dir);
      await pgbackrest(
        'restore',
        `--pg1-path=${restored.dataDir}`,
        '--type=time',
        `--target=${target}`,
        '--target-action=promote',
      );
      await restored.start();
      const deadline = Date.now() + 30_000;
      while (
        (await query<{ standby: boolean }>(restored.url, 'SELECT pg_is_in_recovery() AS standby'))[0]!.standby
      ) {
        if (Date.now() > deadline) throw new Error('the restored cluster did not finish recovery in 30 s');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }

      const [expected] = await query<{ ids: number[] }>(
        primary.url,
        `SELECT array_agg(g ORDER BY g) AS ids FROM generate_series(1, 300) g WHERE g <= 50 OR g > 100`,
      );
      const [got] = await query<{ ids: number[] }>(
        restored.url,
        'SELECT array_agg(id ORDER BY id) AS ids FROM ledger',
      );
      expect(got!.ids).toEqual(expected!.ids);
    });
  },
);
