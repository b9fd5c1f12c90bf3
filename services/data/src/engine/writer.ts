import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection, DuckDBType } from '@duckdb/node-api';
import type { Slots } from './slots.ts';
import { interrupter, openLockedInstance, sqlIdentifier, sqlString } from './duck-instance.ts';
import { translateDuckError } from './engine-errors.ts';
import {
  assertStorageFile,
  isInside,
  viewStatement,
  type DatasetSources,
  type InstanceSettings,
} from './instance-pool.ts';
import { readerCall, type ReaderSpec } from './writer-readers.ts';

/**
 * Trusted writes: the service's own SQL turns an uploaded file, appended
 * rows or a query's answer into a new dataset version's Parquet file. Each
 * write runs in a DuckDB instance of its own, opened for it alone: it may
 * read the one input file (or the datasets the query names) and write under
 * the one new version folder, nothing else, and no user SQL ever reaches it
 * except a guarded SELECT in `fromQuery`, re-written by DuckDB from its parse
 * tree so nothing can follow it.
 */

/** Every version is one zstd Parquet file; DuckDB reads its row groups in parallel. */
export const VERSION_FILE = 'part-0.parquet';

export interface WriteResult {
  /** Absolute paths of the files written. */
  files: string[];
  rows: number;
}

export interface AppendedColumn {
  name: string;
  /** The DuckDB type the column gets in Parquet (`BIGINT`, `DOUBLE`, `DATE`, `TIMESTAMP`, `VARCHAR`, `JSON`, …). */
  duckdbType: string;
}

export type AppendedValue = string | number | boolean | bigint | null;

/** A column of a query's answer, as DuckDB names and types it when the query is prepared (before it runs). */
export interface AnswerColumn {
  name: string;
  type: DuckDBType;
}

/** A column as written: its name in the file, and its value as SQL over the answer's column (`column` is a reference to it). */
export interface WrittenColumn {
  name: string;
  value: (column: string) => string;
}

export interface Writer {
  /** Reads `input` (a file in the upload temp directory) with DuckDB's reader and writes it into `outDir`. */
  fromFile(request: {
    input: string;
    reader: ReaderSpec;
    outDir: string;
    signal?: AbortSignal;
  }): Promise<WriteResult>;
  /** Writes rows the service read itself (Excel) into `outDir`; values are cast to each column's type. */
  fromRows(request: {
    columns: readonly AppendedColumn[];
    rows: AsyncIterable<readonly AppendedValue[][]> | Iterable<readonly AppendedValue[][]>;
    outDir: string;
    signal?: AbortSignal;
  }): Promise<WriteResult>;
  /**
   * Writes the answer of one SELECT over `datasets` into `outDir`; `select` must have passed the
   * engine's guard. With `shape`, the file's columns are chosen from the answer's: one written
   * column for each, in order (names a dataset can have, types it stores).
   */
  fromQuery(request: {
    select: string;
    datasets: DatasetSources;
    outDir: string;
    signal?: AbortSignal;
    shape?: (answer: readonly AnswerColumn[]) => readonly WrittenColumn[];
  }): Promise<WriteResult>;
}

interface WriterOptions {
  storageDir: string;
  /** Where uploaded files wait to be ingested; `fromFile` reads files under it (or dataset files) only. */
  uploadDir: string;
  /** The caller's signal joined with the engine's own, which aborts when the engine closes. */
  lifetime: (signal: AbortSignal | undefined) => AbortSignal;
  settings: InstanceSettings;
  slots: Slots;
  /** DuckDB's own text for a guarded SELECT (json_deserialize_sql of its tree). */
  canonical: (select: string) => Promise<string>;
}

/** A new, empty version folder under the storage directory. */
async function prepareOutDir(storageDir: string, outDir: string): Promise<string> {
  assertStorageFile(storageDir, path.join(outDir, VERSION_FILE));
  await mkdir(outDir, { recursive: true });
  if ((await readdir(outDir)).length > 0) throw new Error(`The version folder ${outDir} is not empty`);
  return path.join(outDir, VERSION_FILE);
}

const copyTo = (select: string, file: string): string =>
  `COPY (${select}) TO ${sqlString(file)} (FORMAT parquet, COMPRESSION zstd)`;

/**
 * The SELECT that writes `shape`'s columns: the answer's columns are reached by position
 * (`answer(c0, c1, …)`), so names the answer repeats, or that are not identifiers, stay apart.
 * The caller's own text is prepared to learn them (nothing runs), so an error names a place in
 * what the caller wrote; the COPY runs DuckDB's own text of it.
 */
async function shapedSelect(
  connection: DuckDBConnection,
  select: { caller: string; canonical: string },
  shape: (answer: readonly AnswerColumn[]) => readonly WrittenColumn[],
): Promise<string> {
  const prepared = await connection.prepare(select.caller);
  let answer: AnswerColumn[];
  try {
    answer = Array.from({ length: prepared.columnCount }, (_, index) => ({
      name: prepared.columnName(index),
      type: prepared.columnType(index),
    }));
  } finally {
    prepared.destroySync();
  }
  const written = shape(answer);
  if (written.length !== answer.length) {
    throw new Error(
      `A shape gives one written column per answer column: ${answer.length}, not ${written.length}`,
    );
  }
  const positions = answer.map((_, index) => sqlIdentifier(`c${index}`));
  const values = written.map(
    (column, index) => `${column.value(`answer.${positions[index]!}`)} AS ${sqlIdentifier(column.name)}`,
  );
  return `SELECT ${values.join(', ')} FROM (${select.canonical}) AS answer(${positions.join(', ')})`;
}

export function createWriter(options: WriterOptions): Writer {
  const storageDir = path.resolve(options.storageDir);
  const uploadDir = path.resolve(options.uploadDir);

  /** Runs `work` in a fresh instance that may read `reads` and write the version folder only. */
  async function write(
    outDir: string,
    reads: { paths: readonly string[]; views?: readonly string[] },
    callerSignal: AbortSignal | undefined,
    work: (connection: DuckDBConnection, file: string) => Promise<number>,
  ): Promise<WriteResult> {
    const signal = options.lifetime(callerSignal);
    const file = await prepareOutDir(storageDir, outDir);
    const release = await options.slots.acquire(signal);
    try {
      const locked = await openLockedInstance({
        ...options.settings,
        allowedPaths: reads.paths,
        allowedDirectories: [`${outDir}${path.sep}`],
        setup: reads.views,
      });
      const connection = await locked.connect();
      const interruption = interrupter(connection);
      const onAbort = (): void => interruption.interrupt();
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) onAbort();
      try {
        const rows = await work(connection, file);
        return { files: [file], rows };
      } catch (error) {
        throw signal.aborted ? (signal.reason as Error) : translateDuckError(error);
      } finally {
        signal.removeEventListener('abort', onAbort);
        interruption.clear();
        connection.closeSync();
        await locked.close();
      }
    } finally {
      release();
    }
  }

  const copyRows = async (connection: DuckDBConnection, sql: string): Promise<number> => {
    const reader = await connection.runAndReadAll(sql);
    return Number(reader.getRows()[0]?.[0] ?? 0);
  };

  return {
    fromFile: async ({ input, reader, outDir, signal }) => {
      if (!isInside(uploadDir, input) && !isInside(storageDir, input)) {
        throw new Error(`An ingested file must be under ${uploadDir}; got ${input}`);
      }
      return write(outDir, { paths: [input] }, signal, (connection, file) =>
        copyRows(connection, copyTo(`SELECT * FROM ${readerCall(input, reader)}`, file)),
      );
    },

    fromRows: ({ columns, rows, outDir, signal }) =>
      write(outDir, { paths: [] }, signal, async (connection, file) => {
        const staging = columns.map((column) => `${sqlIdentifier(column.name)} VARCHAR`).join(', ');
        await connection.run(`CREATE TABLE staging (${staging})`);
        const appender = await connection.createAppender('staging');
        for await (const batch of rows) {
          if (signal?.aborted) throw signal.reason as Error;
          for (const row of batch) {
            for (let index = 0; index < columns.length; index++) {
              const value = row[index];
              if (value === null || value === undefined) appender.appendNull();
              else appender.appendVarchar(String(value));
            }
            appender.endRow();
          }
        }
        appender.closeSync();
        const casts = columns
          .map(
            (column) =>
              `CAST(${sqlIdentifier(column.name)} AS ${column.duckdbType}) AS ${sqlIdentifier(column.name)}`,
          )
          .join(', ');
        return copyRows(connection, copyTo(`SELECT ${casts} FROM staging`, file));
      }),

    fromQuery: async ({ select, datasets, outDir, signal, shape }) => {
      const text = await options.canonical(select);
      const files = Object.values(datasets).flatMap((source) => source.files);
      for (const file of files) assertStorageFile(storageDir, file);
      const views = Object.entries(datasets).map(([name, source]) => viewStatement(name, source));
      return write(outDir, { paths: files, views }, signal, async (connection, file) => {
        const query = shape
          ? await shapedSelect(connection, { caller: select, canonical: text }, shape)
          : text;
        return copyRows(connection, copyTo(query, file));
      });
    },
  };
}
