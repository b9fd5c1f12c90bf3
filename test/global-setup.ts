import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { createLogger, startEmbeddedPostgres, type EmbeddedPostgres } from '@datalab/platform';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A real PostgreSQL: DATABASE_URL, or an embedded one started for this run. */
    databaseUrl: string;
    /** A real Redis when REDIS_URL is set; Redis-only tests are skipped without one. */
    redisUrl: string | undefined;
  }
}

let embedded: EmbeddedPostgres | undefined;
let directory: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    directory = await mkdtemp(path.join(os.tmpdir(), 'datalab-test-pg-'));
    embedded = await startEmbeddedPostgres({
      dataDir: directory,
      port: 20000 + Math.floor(Math.random() * 20000),
      logger: createLogger({ level: 'warn' }),
    });
    databaseUrl = embedded.url;
  }
  project.provide('databaseUrl', databaseUrl);
  project.provide('redisUrl', process.env.REDIS_URL || undefined);
}

export async function teardown(): Promise<void> {
  await embedded?.stop();
  if (directory) await rm(directory, { recursive: true, force: true });
}
