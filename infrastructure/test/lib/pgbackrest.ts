import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { repoRoot } from '../../../test/processes.ts';
import { asPostgres, PG_BIN, query, writeConfig, type Node } from './postgres-cluster.ts';

export const STANZA = 'datalab';

/** Debian's PostgreSQL 15 server and pgBackRest (packages postgresql-15 and pgbackrest; .ci/run installs both). */
export const hasPostgresAndPgBackRest =
  existsSync(path.join(PG_BIN, 'initdb')) && existsSync('/usr/bin/pgbackrest');

/** The shipped pgBackRest configuration with this test's paths and port in place of the host's. */
export async function pgbackrestConfig(dir: string, primary: Node): Promise<string> {
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

/** pgBackRest on the stanza, with the configuration `config`. */
export function pgbackrest(config: string) {
  return (...args: string[]) =>
    asPostgres('pgbackrest', [`--config=${config}`, `--stanza=${STANZA}`, ...args]);
}

/** postgresql.conf settings that archive every WAL segment to the stanza, as docs/operations.md says. */
export function archiveSettings(config: string): Record<string, string> {
  return {
    archive_mode: 'on',
    archive_command: `pgbackrest --config=${config} --stanza=${STANZA} archive-push %p`,
  };
}

/** The latest moment this cluster has committed, as PostgreSQL writes it (a restore target). */
export async function clusterNow(node: Node): Promise<string> {
  const [row] = await query<{ now: string }>(node.url, 'SELECT clock_timestamp()::text AS now');
  return row!.now;
}

/** Closes the current WAL segment and waits until the archive holds it: every commit so far can be restored. */
export async function archiveAll(config: string, primary: Node): Promise<void> {
  await query(primary.url, 'SELECT pg_switch_wal()');
  await pgbackrest(config)('check');
}

/** Restores the stanza into `restored`'s data directory as of `target`, starts it and waits for it to take writes. */
export async function restoreToTime(config: string, restored: Node, target: string): Promise<void> {
  await pgbackrest(config)(
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
}

/** pgBackRest records times in whole seconds: a restore target must be a second past a backup's end. */
export function nextSecond(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1100));
}
