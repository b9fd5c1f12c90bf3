import { limitRows, type Pool, type PoolClient } from '@datalab/platform';
import { tempLimitNotGranted, type SessionLimits } from './limits.ts';
import { columnTypeOf, valueParser, type ResultColumn, type ResultValue } from './result-values.ts';

/**
 * The second line of defence: whatever the SQL guard let through runs in a
 * read-only, repeatable-read transaction as `datalab_reader` (a role that may
 * only SELECT dataset tables), with an empty search_path, a per-step
 * statement_timeout, an idle timeout, work_mem and (on the query login)
 * temp_file_limit, and a byte budget on the rows it may receive. Rows are read
 * through a server-side cursor in batches sized by bytes, so a large read
 * streams instead of sitting in memory, and every FETCH gets the full timeout —
 * a long export is not cut off, a runaway step is.
 */

export interface Statement {
  text: string;
  values: readonly unknown[];
}

export interface ReaderOptions {
  /** Each step (and each pause between steps) may take this long before PostgreSQL stops it. */
  timeoutMs: number;
  limits: SessionLimits;
  /** Dataset id → version the caller resolved: whether this snapshot shows exactly those (a replica may lag). */
  expectVersions?: ReadonlyMap<string, number>;
}

export interface CursorOptions extends ReaderOptions {
  /** Most rows per FETCH; fewer when rows are wide (about BATCH_BYTES a batch). */
  batchSize: number;
}

export interface RowCursor {
  columns: ResultColumn[];
  /** The snapshot showed every expected dataset at its expected version; only such answers may be cached. */
  consistent: boolean;
  /** The row batches, the first already fetched; ending or abandoning the iteration closes the cursor. */
  batches: () => AsyncGenerator<ResultValue[][]>;
  /** Rows beyond the row cap existed (only bounded answers have a cap; known before the first batch). */
  truncated: boolean;
  /** Ends the transaction and returns the connection; safe to call more than once. */
  close: () => Promise<void>;
}

const CURSOR = 'datalab_result';
export const RAW_TEXT = { getTypeParser: () => (text: string) => text };

const kilobytes = (bytes: number): number => Math.max(0, Math.floor(bytes / 1024));

function setup(options: ReaderOptions): string {
  const ms = Math.max(1, Math.trunc(options.timeoutMs));
  const { workMemBytes, tempFileBytes } = options.limits;
  return [
    'BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY',
    `SET LOCAL statement_timeout = ${ms}`,
    `SET LOCAL idle_in_transaction_session_timeout = ${ms}`,
    // Nothing unqualified resolves to a schema of ours; pg_catalog is always searched.
    "SET LOCAL search_path = ''",
    "SET LOCAL TimeZone = 'UTC'",
    `SET LOCAL work_mem = '${Math.max(64, kilobytes(workMemBytes))}kB'`,
    // Set as the login, before SET ROLE: the reader role itself may not change it back.
    ...(tempFileBytes === undefined ? [] : [`SET LOCAL temp_file_limit = '${kilobytes(tempFileBytes)}kB'`]),
  ].join('; ');
}

function isTempLimitRefusal(error: unknown): boolean {
  return (error as { code?: string }).code === '42501' && /temp_file_limit/.test(String(error));
}

async function snapshotShows(client: PoolClient, expected: ReadonlyMap<string, number>): Promise<boolean> {
  if (expected.size === 0) return true;
  const result = await client.query<{ id: string; version: number }>(
    'SELECT id, version FROM data.datasets WHERE id = ANY($1::uuid[])',
    [[...expected.keys()]],
  );
  return (
    result.rows.length === expected.size && result.rows.every((row) => expected.get(row.id) === row.version)
  );
}

/** A connection inside the reader transaction, as the reader role; `close` rolls back and returns it. */
export interface ReaderSession {
  client: PoolClient;
  consistent: boolean;
  close: () => Promise<void>;
}

/** Checks out a connection and opens the read-only transaction every query and export runs in. */
export async function openReader(pool: Pool, options: ReaderOptions): Promise<ReaderSession> {
  const client = await pool.connect();
  let broken = false;
  let closed = false;
  // A checked-out client has no error listener; the server ending the session must not crash the process.
  const onError = (): void => {
    broken = true;
  };
  client.on('error', onError);
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    // Always a rollback: whatever the query managed to do is undone. Session-level advisory
    // locks are not transactional, so they are dropped too before the connection is reused.
    if (!broken)
      await client.query('ROLLBACK; SELECT pg_advisory_unlock_all()').catch(() => {
        broken = true;
      });
    limitRows(client, undefined);
    client.removeListener('error', onError);
    client.release(broken);
  };
  try {
    await client.query(setup(options)).catch((error: unknown) => {
      throw isTempLimitRefusal(error) ? tempLimitNotGranted(error) : error;
    });
    const consistent = await snapshotShows(client, options.expectVersions ?? new Map());
    await client.query('SET LOCAL ROLE datalab_reader');
    limitRows(client, options.limits.rows);
    return { client, consistent, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Opens the reader transaction, declares the cursor and fetches the first batch (so errors come before any answer). */
export async function openCursor(
  pool: Pool,
  statement: Statement,
  options: CursorOptions,
): Promise<RowCursor> {
  const { client, consistent, close } = await openReader(pool, options);
  try {
    await declare(client, statement);
    const reader = batchReader(client, options);
    const first = await reader.next();
    return {
      columns: reader.columns(),
      consistent,
      truncated: false,
      close,
      batches: async function* () {
        try {
          let batch = first;
          for (;;) {
            if (batch.length > 0) yield batch;
            if (reader.done) return;
            batch = await reader.next();
          }
        } finally {
          await close();
        }
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}

const DECLARE = `DECLARE ${CURSOR} NO SCROLL CURSOR FOR `;

/** Error positions are made to count from the start of the caller's statement, not of what we put before it. */
export function shiftPosition(error: unknown, prefix: string): unknown {
  const at = error instanceof Error ? Number((error as { position?: string }).position) : NaN;
  if (at > prefix.length) (error as { position?: string }).position = String(at - prefix.length);
  return error;
}

async function declare(client: PoolClient, statement: Statement): Promise<void> {
  try {
    await client.query({ text: `${DECLARE}${statement.text}`, values: [...statement.values] });
  } catch (error) {
    throw shiftPosition(error, DECLARE);
  }
}

/** About this many bytes of rows per FETCH, judged by the widest row seen so far. */
const BATCH_BYTES = 8 * 1024 * 1024;
/** The first FETCH, before any row was seen: small, as rows may be wide. */
const FIRST_BATCH = 10;

function rowChars(row: (string | null)[]): number {
  let chars = 0;
  for (const text of row) chars += text === null ? 1 : text.length + 4;
  return chars;
}

function batchReader(client: PoolClient, options: CursorOptions) {
  let columns: ResultColumn[] = [];
  let parsers: ((text: string) => ResultValue)[] = [];
  let widest = 0;
  let done = false;
  return {
    get done() {
      return done;
    },
    columns: () => columns,
    async next(): Promise<ResultValue[][]> {
      const count =
        widest === 0
          ? Math.min(FIRST_BATCH, options.batchSize)
          : Math.max(1, Math.min(options.batchSize, Math.floor(BATCH_BYTES / widest)));
      const result = await client.query<(string | null)[]>({
        text: `FETCH ${count} FROM ${CURSOR}`,
        rowMode: 'array',
        types: RAW_TEXT,
      });
      if (parsers.length === 0 && result.fields.length > 0) {
        columns = result.fields.map((field) => ({ name: field.name, type: columnTypeOf(field.dataTypeID) }));
        parsers = result.fields.map((field) => valueParser(field.dataTypeID));
      }
      for (const row of result.rows) widest = Math.max(widest, rowChars(row));
      done = result.rows.length < count;
      return result.rows.map((row) =>
        row.map((text, index) => (text === null ? null : parsers[index]!(text))),
      );
    },
  };
}
