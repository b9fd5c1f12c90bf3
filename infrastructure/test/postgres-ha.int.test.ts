import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase } from '@datalab/platform';
import { silentLogger } from '../../test/helpers.ts';
import { freePort } from '../../test/processes.ts';
import {
  archiveAll,
  archiveSettings,
  clusterNow,
  nextSecond,
  pgbackrest as pgbackrestWith,
  pgbackrestConfig,
  restoreToTime,
} from './lib/pgbackrest.ts';
import {
  baseBackup,
  initPrimary,
  node,
  PG_BIN,
  postgresTempDir,
  query,
  removeTempDir,
  type Node,
} from './lib/postgres-cluster.ts';

describe.skipIf(!existsSync(path.join(PG_BIN, 'initdb')))(
  'PostgreSQL replica and pgBackRest, for real on loopback',
  () => {
    let dir: string;
    let primary: Node;
    let replica: Node;
    let restored: Node | undefined;
    let config: string;
    const pgbackrest = (...args: string[]) => pgbackrestWith(config)(...args);

    beforeAll(async () => {
      dir = await postgresTempDir('datalab-pg-ha-');
      const socketDir = dir;
      primary = node(path.join(dir, 'primary'), await freePort(), socketDir);
      config = await pgbackrestConfig(dir, primary);
      await initPrimary(primary.dataDir, {
        wal_level: 'replica',
        max_wal_senders: '5',
        ...archiveSettings(config),
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
      await nextSecond();
      await query(
        primary.url,
        `INSERT INTO ledger SELECT g, 'after backup' FROM generate_series(201, 300) g`,
      );
      const target = await clusterNow(primary);
      await nextSecond();
      await query(primary.url, `INSERT INTO ledger SELECT g, 'too late' FROM generate_series(301, 400) g`);
      await query(primary.url, 'DELETE FROM ledger WHERE id <= 10');
      await archiveAll(config, primary);

      restored = node(path.join(dir, 'restored'), await freePort(), dir);
      await restoreToTime(config, restored, target);

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
