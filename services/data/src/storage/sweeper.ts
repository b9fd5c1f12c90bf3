import { startPeriodic, type App, type Logger, type Pool, type PoolClient } from '@datalab/platform';
import type { DatasetStorage } from './dataset-storage.ts';

/** One sweeper at a time across replicas: each pass holds this session lock. */
const LOCK_KEY = 'datalab.data.sweeper';
const BATCH = 500;

export interface SweepReport {
  /** False when another replica held the lock and this pass did nothing. */
  ran: boolean;
  /** Replaced or deleted files deleted after their grace period. */
  dropped: number;
  /** Files no catalog entry ever named (a write that died, a transaction rolled back after publishing). */
  orphans: number;
}

/** Of `keys`, those a dataset's current version names or a dropped row still waits on. */
async function namedKeys(client: PoolClient, keys: readonly string[]): Promise<Set<string>> {
  const named = await client.query<{ key: string }>(
    `SELECT key FROM data.datasets, jsonb_array_elements_text(files) AS key WHERE key = ANY($1)
     UNION SELECT key FROM data.dropped_files WHERE key = ANY($1)`,
    [keys],
  );
  return new Set(named.rows.map((row) => row.key));
}

/** Deletes the files dropped more than `graceSeconds` ago, and then their rows. */
async function sweepDropped(client: PoolClient, storage: DatasetStorage, graceSeconds: number) {
  let swept = 0;
  for (;;) {
    const due = await client.query<{ key: string }>(
      `SELECT key FROM data.dropped_files WHERE dropped_at < now() - make_interval(secs => $1)
       ORDER BY dropped_at LIMIT $2`,
      [graceSeconds, BATCH],
    );
    const keys = due.rows.map((row) => row.key);
    if (keys.length === 0) return swept;
    // A file a current version names again is kept; its dropped row is wrong either way.
    const current = await client.query<{ key: string }>(
      'SELECT key FROM data.datasets, jsonb_array_elements_text(files) AS key WHERE key = ANY($1)',
      [keys],
    );
    const kept = new Set(current.rows.map((row) => row.key));
    const gone = keys.filter((key) => !kept.has(key));
    await storage.remove(gone);
    await client.query('DELETE FROM data.dropped_files WHERE key = ANY($1)', [keys]);
    swept += gone.length;
  }
}

/**
 * Deletes files older than the grace period that nothing in the catalog
 * names. Only a dataset's current files keep a file: the files of older
 * versions were marked dropped when they were replaced.
 */
async function sweepOrphans(client: PoolClient, storage: DatasetStorage, graceSeconds: number) {
  const cutoff = Date.now() - graceSeconds * 1000;
  let swept = 0;
  let batch: string[] = [];
  const sweepBatch = async () => {
    const named = await namedKeys(client, batch);
    const orphans = batch.filter((key) => !named.has(key));
    await storage.remove(orphans);
    swept += orphans.length;
    batch = [];
  };
  for await (const file of storage.list()) {
    if (file.modifiedAt.getTime() >= cutoff) continue;
    batch.push(file.key);
    if (batch.length >= BATCH) await sweepBatch();
  }
  if (batch.length > 0) await sweepBatch();
  return swept;
}

/** One pass over dropped files and then orphans, if no other replica is sweeping. */
export async function sweepOnce(
  pool: Pool,
  storage: DatasetStorage,
  graceSeconds: number,
): Promise<SweepReport> {
  const client = await pool.connect();
  let locked = false;
  let broken: Error | undefined;
  try {
    const lock = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [
      LOCK_KEY,
    ]);
    locked = lock.rows[0]!.ok;
    if (!locked) return { ran: false, dropped: 0, orphans: 0 };
    const dropped = await sweepDropped(client, storage, graceSeconds);
    const orphans = await sweepOrphans(client, storage, graceSeconds);
    return { ran: true, dropped, orphans };
  } catch (error) {
    broken = error as Error;
    throw error;
  } finally {
    if (locked)
      await client
        .query('SELECT pg_advisory_unlock(hashtext($1))', [LOCK_KEY])
        .catch((error: Error) => (broken ??= error));
    // A connection that failed mid-pass may still hold the lock: destroy it rather than pool it.
    client.release(broken);
  }
}

export interface SweeperOptions {
  pool: Pool;
  storage: DatasetStorage;
  logger: Logger;
  graceSeconds: number;
  intervalSeconds: number;
}

/**
 * Sweeps every `intervalSeconds`, the first time one interval after the
 * start (a service restarted in a loop does not sweep in a loop), until closed.
 */
export function startSweeper(options: SweeperOptions): { close: () => Promise<void> } {
  const pass = async (): Promise<void> => {
    try {
      const report = await sweepOnce(options.pool, options.storage, options.graceSeconds);
      if (report.dropped + report.orphans > 0) options.logger.info(report, 'sweeper: dataset files deleted');
    } catch (error) {
      options.logger.warn({ err: error }, 'dataset file sweep failed');
    }
  };
  const intervalMs = options.intervalSeconds * 1000;
  return startPeriodic(pass, intervalMs, intervalMs);
}

/** Sweeps while `app` listens: started once it listens (building the app does no I/O), stopped when it closes. */
export function sweepWhileListening(app: App, options: SweeperOptions): void {
  let sweeper: { close: () => Promise<void> } | undefined;
  app.addHook('onListen', async () => {
    sweeper = startSweeper(options);
  });
  app.addHook('onClose', async () => sweeper?.close());
}
