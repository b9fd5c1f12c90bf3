import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import {
  createLogger,
  ensureQueryRole,
  startEmbeddedPostgres,
  type EmbeddedPostgres,
} from '@datalab/platform';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A real PostgreSQL: DATABASE_URL, or an embedded one started for this run. */
    databaseUrl: string;
    /** A real Redis when REDIS_URL is set; Redis-only tests are skipped without one. */
    redisUrl: string | undefined;
    /** The restricted login user SQL runs as (member of datalab_reader only). */
    queryDatabaseUrl: string;
  }
}

let embedded: EmbeddedPostgres | undefined;
let directory: string | undefined;

/**
 * On a server of our own (CI: trust authentication) the restricted query login
 * is made here, as an operator would make it for QUERY_DATABASE_URL.
 */
async function queryLogin(databaseUrl: string): Promise<string> {
  await ensureQueryRole(databaseUrl);
  const url = new URL(databaseUrl);
  url.username = 'datalab_query';
  url.password = '';
  return url.toString();
}

export async function setup(project: TestProject): Promise<void> {
  let databaseUrl = process.env.DATABASE_URL;
  let queryDatabaseUrl = process.env.QUERY_DATABASE_URL;
  if (!databaseUrl) {
    directory = await mkdtemp(path.join(os.tmpdir(), 'datalab-test-pg-'));
    embedded = await startEmbeddedPostgres({
      dataDir: directory,
      port: 20000 + Math.floor(Math.random() * 20000),
      logger: createLogger({ level: 'warn' }),
    });
    databaseUrl = embedded.url;
    queryDatabaseUrl = embedded.queryUrl;
  }
  project.provide('databaseUrl', databaseUrl);
  project.provide('queryDatabaseUrl', queryDatabaseUrl ?? (await queryLogin(databaseUrl)));
  project.provide('redisUrl', process.env.REDIS_URL || undefined);
}

export async function teardown(): Promise<void> {
  await embedded?.stop();
  if (directory) await rm(directory, { recursive: true, force: true });
}
