import type { Pool, PoolClient } from '@datalab/platform';
import { columnTypeOf, valueParser, type ResultColumn, type ResultValue } from './result-values.ts';

/**
 * The second line of defence: whatever the SQL guard let through runs in a
 * read-only, repeatable-read transaction as `datalab_reader` (a role that may
 * only SELECT dataset tables), with an empty search_path, a per-step
 * statement_timeout and an idle timeout. Rows are read through a server-side
 * cursor in batches, so a large answer streams instead of sitting in memory,
 * and every FETCH gets the full timeout — a long export is not cut off, a
 * runaway step is.
 */

export interface Statement {
  text: string;
  values: readonly unknown[];
}

export interface CursorOptions {
  /** Each step (and each pause between steps) may take this long before PostgreSQL stops it. */
  timeoutMs: number;
  /** Rows beyond this are not read and `truncated` becomes true; unset reads every row. */
  maxRows?: number;
  /** Rows per FETCH. */
  batchSize: number;
  /** Dataset id → version the caller resolved: whether this snapshot shows exactly those (a replica may lag). */
  expectVersions?: ReadonlyMap<string, number>;
}

export interface RowCursor {
  columns: ResultColumn[];
  /** The snapshot showed every expected dataset at its expected version; only such answers may be cached. */
  consistent: boolean;
  /** The row batches, the first already fetched; ending or abandoning the iteration closes the cursor. */
  batches: () => AsyncGenerator<ResultValue[][]>;
  /** Known once `batches()` has finished: rows beyond `maxRows` existed. */
  readonly truncated: boolean;
  /** Ends the transaction and returns the connection; safe to call more than once. */
  close: () => Promise<void>;
}

const CURSOR = 'datalab_result';
export const RAW_TEXT = { getTypeParser: () => (text: string) => text };

function setup(timeoutMs: number): string {
  const ms = Math.max(1, Math.trunc(timeoutMs));
  return [
    'BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY',
    `SET LOCAL statement_timeout = ${ms}`,
    `SET LOCAL idle_in_transaction_session_timeout = ${ms}`,
    // Nothing unqualified resolves to a schema of ours; pg_catalog is always searched.
    "SET LOCAL search_path = ''",
    "SET LOCAL TimeZone = 'UTC'",
  ].join('; ');
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
export async function openReader(
  pool: Pool,
  options: Pick<CursorOptions, 'timeoutMs' | 'expectVersions'>,
): Promise<ReaderSession> {
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
    await client.query('ROLLBACK; SELECT pg_advisory_unlock_all()').catch(() => {
      broken = true;
    });
    client.removeListener('error', onError);
    client.release(broken);
  };
  try {
    await client.query(setup(options.timeoutMs));
    const consistent = await snapshotShows(client, options.expectVersions ?? new Map());
    await client.query('SET LOCAL ROLE datalab_reader');
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
      get truncated() {
        return reader.truncated;
      },
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

function batchReader(client: PoolClient, options: CursorOptions) {
  let columns: ResultColumn[] = [];
  let parsers: ((text: string) => ResultValue)[] = [];
  let read = 0;
  const state = { done: false, truncated: false };
  // One row past the cap tells whether there was more.
  const limit = options.maxRows === undefined ? Infinity : options.maxRows + 1;
  return {
    get done() {
      return state.done;
    },
    get truncated() {
      return state.truncated;
    },
    columns: () => columns,
    async next(): Promise<ResultValue[][]> {
      const count = Math.min(options.batchSize, limit - read);
      const result = await client.query<string[]>({
        text: `FETCH ${count} FROM ${CURSOR}`,
        rowMode: 'array',
        types: RAW_TEXT,
      });
      if (parsers.length === 0 && result.fields.length > 0) {
        columns = result.fields.map((field) => ({ name: field.name, type: columnTypeOf(field.dataTypeID) }));
        parsers = result.fields.map((field) => valueParser(field.dataTypeID));
      }
      read += result.rows.length;
      let rows = result.rows;
      if (read >= limit) {
        state.truncated = true;
        rows = rows.slice(0, rows.length - (read - (limit - 1)));
      }
      state.done = state.truncated || result.rows.length < count;
      return rows.map((row) => row.map((text, index) => (text === null ? null : parsers[index]!(text))));
    },
  };
}
