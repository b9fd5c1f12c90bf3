import type { Static, TSchema } from 'typebox';
import type { Logger } from 'pino';
import type { Adapters } from '../adapters/adapters.ts';
import type { Principal } from '../auth/principal.ts';
import type { KeySet } from '../auth/keys.ts';
import type { Env } from '../config/config.ts';
import type { Database } from '../db/database.ts';
import type { CommonConfig } from '../service/definition.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** What a handler gets for one attempt of one job. */
export interface JobContext<P> {
  jobId: string;
  /** The params as submitted, already checked against the type's schema. */
  params: P;
  /** Who submitted the job: a handler acts on their behalf, with their rights. */
  owner: Principal;
  /** 1 for the first attempt. */
  attempt: number;
  /** Aborted when the job is cancelled, times out, or its worker hands it back; stop soon after. */
  signal: AbortSignal;
  /** Reports progress (0–100, clamped) with an optional message; cheap to call often. */
  progress: (percent: number, message?: string) => Promise<void>;
  /** A line in the job's log (`GET …/jobs/{id}/logs`). */
  log: (level: LogLevel, message: string) => Promise<void>;
}

/**
 * One kind of job. Handlers must be idempotent: after a worker dies the same
 * attempt may run again elsewhere, and must give the same result.
 */
export interface JobType<S extends TSchema = TSchema> {
  /** Name used in `POST /jobs {type}`. */
  type: string;
  /** Queue it runs on, so `datalab worker --queues` can send kinds of work to kinds of machines. */
  queue: string;
  /** What `params` must look like; failures answer 400 naming the field. */
  params: S;
  /** An attempt running longer than this is aborted and counts as failed. */
  timeoutMs: number;
  /** Attempts before the job is dead (retries with exponential backoff in between). */
  maxAttempts: number;
  /** The JSON result stored with the job. */
  handler: (context: JobContext<Static<S>>) => Promise<unknown>;
}

/** Keeps the handler's params typed by its own schema while the registry holds any job type. */
export function defineJobType<S extends TSchema>(definition: JobType<S>): JobType {
  return definition;
}

/** A failure that retrying cannot fix (bad input, missing dataset): the job goes to `failed` at once. */
export class PermanentJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentJobError';
  }
}

/**
 * What a service's job types are built from in whichever process runs them
 * (the compute-service in embedded mode, `datalab worker` otherwise): the
 * process's own connections, so a handler needs nothing from an HTTP request.
 */
export interface JobTypeDeps {
  /** The process environment, for the owning service's own `loadConfig`. */
  env: Env;
  common: CommonConfig;
  db: Database;
  adapters: Adapters;
  logger: Logger;
  /** Signs internal tokens when a handler calls another service as the job's owner. */
  internalKeys: KeySet;
}

/** Each service that owns job types exports one of these; the compute engine registers what it returns. */
export type JobTypeFactory = (deps: JobTypeDeps) => readonly JobType[];
