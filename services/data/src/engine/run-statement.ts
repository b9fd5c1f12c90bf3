import { AppError } from '@datalab/platform';
import {
  DuckDBArrayType,
  DuckDBListType,
  DuckDBMapType,
  DuckDBStructType,
  DuckDBTypeId,
  DuckDBUnionType,
  StatementType,
  type DuckDBConnection,
  type DuckDBResult,
  type DuckDBType,
} from '@duckdb/node-api';
import type { ColumnType } from '../datasets/datasets.types.ts';
import type { ResultValue } from '../query/result-values.ts';
import { chunkBytes } from './answer-size.ts';
import { interrupter } from './duck-instance.ts';
import { timeoutError, tooLargeAnswer, translateDuckError } from './engine-errors.ts';
import { chunkRows, columnTypeOf, converterFor } from './values.ts';

/**
 * The engine's lower layer: runs one statement on a connection of a locked
 * instance, whoever wrote it. It is the second line of defence behind the
 * guard: DuckDB itself must find exactly one statement and prepare it as a
 * SELECT (so no COPY, SET, ATTACH, PRAGMA, INSTALL, CREATE, … whatever the
 * text looks like), and the instance can open only its own files. Results
 * stream chunk by chunk under a row cap, a byte budget measured before
 * conversion, and a timeout that interrupts DuckDB.
 */

export interface RunLimits {
  /** Most rows answered; one more row found behind them marks the answer truncated. */
  maxRows: number;
  /** Most bytes answered, counted in DuckDB's vectors before conversion (answer-size.ts). */
  maxBytes: number;
  /** From the start of the query to the last row read. */
  timeoutMs: number;
  /** Aborting it stops the query. */
  signal?: AbortSignal;
}

export interface ResultColumn {
  name: string;
  type: ColumnType;
  /** DuckDB's own name for the type, e.g. `DECIMAL(18,3)` or `STRUCT(a INTEGER)`. */
  duckdbType: string;
}

export interface QueryResult {
  readonly columns: readonly ResultColumn[];
  /** The rows, a DuckDB chunk (up to 2,048 rows) at a time, converted as they are read. Iterate once. */
  batches(): AsyncGenerator<ResultValue[][], void>;
  /** Set once `batches()` stopped at the row cap with more rows behind it. */
  readonly truncated: boolean;
  readonly rowCount: number;
  /** Bytes counted against the budget so far. */
  readonly bytes: number;
  /** Stops the query if it is still running and gives its connection back. Safe to call twice. */
  close(): void;
}

/** VARIANT values carry their types per value; their size cannot be read before conversion, so they are refused. */
function hasVariant(type: DuckDBType): boolean {
  if (type.typeId === DuckDBTypeId.VARIANT) return true;
  if (type instanceof DuckDBListType || type instanceof DuckDBArrayType) return hasVariant(type.valueType);
  if (type instanceof DuckDBMapType) return hasVariant(type.keyType) || hasVariant(type.valueType);
  if (type instanceof DuckDBStructType) return type.entryTypes.some(hasVariant);
  if (type instanceof DuckDBUnionType) return type.memberTypes.some(hasVariant);
  return false;
}

async function prepareSelect(connection: DuckDBConnection, sql: string): Promise<DuckDBResult> {
  const extracted = await connection.extractStatements(sql);
  if (extracted.count !== 1) {
    throw new AppError('invalid', `Send exactly one statement; this SQL has ${extracted.count}`);
  }
  const prepared = await extracted.prepare(0);
  if (prepared.statementType !== StatementType.SELECT) {
    const kind = StatementType[prepared.statementType] ?? 'This';
    prepared.destroySync();
    throw new AppError('invalid', `${kind} statements are not allowed: a query is one SELECT`);
  }
  try {
    return await prepared.stream();
  } finally {
    prepared.destroySync();
  }
}

/**
 * Runs `sql` on `connection` under `limits`. `done` is called once, when the
 * result is read to its end, fails or is closed; `broken` says the
 * connection still holds an unfinished result and should not be reused.
 */
export async function runStatement(
  connection: DuckDBConnection,
  sql: string,
  limits: RunLimits,
  done: (broken: boolean) => void,
): Promise<QueryResult> {
  let stopped: 'timeout' | 'aborted' | undefined;
  let ended = false;
  const interruption = interrupter(connection);
  const stop = (why: 'timeout' | 'aborted'): void => {
    stopped ??= why;
    interruption.interrupt();
  };
  const onAbort = (): void => stop('aborted');
  const timer = setTimeout(() => stop('timeout'), limits.timeoutMs);
  limits.signal?.addEventListener('abort', onAbort, { once: true });
  const end = (broken: boolean): void => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    interruption.clear();
    limits.signal?.removeEventListener('abort', onAbort);
    done(broken);
  };
  const translate = (error: unknown): unknown => {
    if (stopped === 'timeout') return timeoutError(limits.timeoutMs);
    if (stopped === 'aborted') return (limits.signal?.reason as unknown) ?? error;
    return translateDuckError(error);
  };

  if (limits.signal?.aborted) onAbort();
  let result: DuckDBResult;
  try {
    result = await prepareSelect(connection, sql);
    if (stopped) throw new Error('stopped');
  } catch (error) {
    end(false);
    throw translate(error);
  }
  const types = result.columnTypes();
  if (types.some(hasVariant)) {
    end(true);
    throw new AppError('invalid', 'VARIANT values cannot be answered; cast them to VARCHAR or JSON');
  }
  const converters = types.map(converterFor);
  const state = { truncated: false, rowCount: 0, bytes: 0 };

  async function* batches(): AsyncGenerator<ResultValue[][], void> {
    let finished = false;
    try {
      for (;;) {
        if (stopped) throw new Error('stopped');
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        const room = limits.maxRows - state.rowCount;
        const take = Math.min(room, chunk.rowCount);
        state.truncated = chunk.rowCount > room;
        if (take > 0) {
          const bytes = chunkBytes(chunk, types, take);
          if (state.bytes + bytes > limits.maxBytes) {
            // The chunk's memory is DuckDB's, freed only when V8 collects the wrapper unless reset now.
            chunk.reset();
            throw tooLargeAnswer(limits.maxBytes);
          }
          state.bytes += bytes;
          state.rowCount += take;
          const rows = chunkRows(chunk, converters, take);
          chunk.reset();
          yield rows;
        } else chunk.reset();
        if (state.truncated) break;
      }
      finished = !state.truncated;
    } catch (error) {
      throw translate(error);
    } finally {
      end(!finished);
    }
  }

  return {
    columns: result.columnNames().map((name, index) => ({
      name,
      type: columnTypeOf(types[index]!),
      duckdbType: types[index]!.toString(),
    })),
    batches,
    get truncated() {
      return state.truncated;
    },
    get rowCount() {
      return state.rowCount;
    },
    get bytes() {
      return state.bytes;
    },
    close: () => {
      if (ended) return;
      connection.interrupt();
      end(true);
    },
  };
}

/** Reads a whole result into memory: for small answers and tests. */
export async function readAll(
  result: QueryResult,
): Promise<{ columns: readonly ResultColumn[]; rows: ResultValue[][]; truncated: boolean }> {
  const rows: ResultValue[][] = [];
  for await (const batch of result.batches()) rows.push(...batch);
  return { columns: result.columns, rows, truncated: result.truncated };
}
