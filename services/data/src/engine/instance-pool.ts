import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  openLockedInstance,
  sqlIdentifier,
  sqlString,
  type LockedInstance,
  type LockedInstanceOptions,
} from './duck-instance.ts';

/**
 * The databases queries run in, one per set of datasets read together.
 * Each holds exactly the views of its datasets, built by the engine over
 * their Parquet files, and may open exactly those files: a query, guarded or
 * not, can read nothing else, because nothing else exists for it and DuckDB
 * refuses every other path. Opening one costs a few milliseconds, so the
 * sets queried last are kept open (dashboards repeat themselves).
 *
 * An instance runs one query at a time: its memory_limit is one slot's share
 * and is locked, so queries sharing it would share that share and fail with
 * out-of-memory together. Queries of the same set at once get instances of
 * their own.
 */

/** A dataset as a query sees it: its SQL name, its version's Parquet files, its columns. */
export interface DatasetSource {
  /** Absolute paths of the version's Parquet files, under the storage directory. */
  files: readonly string[];
  /** The columns the view shows, in order; the files may hold no others. */
  columns: readonly string[];
}

export type DatasetSources = Readonly<Record<string, DatasetSource>>;

export interface Lease {
  connection: DuckDBConnection;
  /** Gives the connection back; `broken` drops it instead of keeping it for the next query. */
  release(broken?: boolean): void;
}

export interface InstancePool {
  lease(datasets: DatasetSources): Promise<Lease>;
  readonly size: number;
  close(): Promise<void>;
}

export type InstanceSettings = Omit<LockedInstanceOptions, 'allowedPaths' | 'allowedDirectories' | 'setup'>;

interface Entry {
  key: string;
  opening: Promise<LockedInstance>;
  users: number;
  lastUsed: number;
  idle: DuckDBConnection[];
}

/** True when `file` is an absolute, normalized path strictly inside `dir`. */
export function isInside(dir: string, file: string): boolean {
  const relative = path.relative(dir, file);
  return (
    path.isAbsolute(file) &&
    path.normalize(file) === file &&
    relative !== '' &&
    !relative.startsWith('..') &&
    !path.isAbsolute(relative)
  );
}

/** Refuses a file the engine must not be pointed at: not absolute, outside the storage directory, not Parquet. */
export function assertStorageFile(storageDir: string, file: string): void {
  if (!isInside(storageDir, file) || !file.endsWith('.parquet')) {
    throw new Error(`Dataset files must be Parquet files under ${storageDir}; got ${file}`);
  }
}

/** The engine's view of one dataset: its columns over its version's files. */
export function viewStatement(name: string, source: DatasetSource): string {
  if (source.files.length === 0) throw new Error(`Dataset ${name} has no Parquet file`);
  const columns = source.columns.length > 0 ? source.columns.map(sqlIdentifier).join(', ') : '*';
  const files = source.files.map(sqlString).join(', ');
  return `CREATE VIEW ${sqlIdentifier(name)} AS SELECT ${columns} FROM read_parquet([${files}])`;
}

/** The column `rowsRelation` adds; no dataset column can be called this (names are [a-z_][a-z0-9_]*). */
export const ROW_NUMBER_COLUMN = '#row';
/** File k's rows are numbered from k·2^40: the numbers follow the file list, with room for 2^40 rows a file. */
const FILE_ROW_SPAN = 2 ** 40;

/**
 * A dataset's rows numbered in their order (the files in list order, each
 * file's rows in its own order), as a relation for SQL the service writes
 * (browsing): its columns and `ROW_NUMBER_COLUMN`. Each file is its own scan
 * numbered by DuckDB's `file_row_number` plus a constant, so a condition on
 * the number reaches the scan and skips the row groups it rules out. Reads
 * only the files the dataset's view reads, which its instance allows.
 */
export function rowsRelation(source: DatasetSource): string {
  if (source.files.length === 0) throw new Error('A dataset without a Parquet file has no rows relation');
  const columns = source.columns.map((column) => `${sqlIdentifier(column)}, `).join('');
  const scans = source.files.map((file, index) => {
    const offset = index === 0 ? '' : ` + ${index * FILE_ROW_SPAN}`;
    return `SELECT ${columns}file_row_number${offset} AS ${sqlIdentifier(ROW_NUMBER_COLUMN)} FROM read_parquet(${sqlString(file)})`;
  });
  return `(${scans.join(' UNION ALL ')})`;
}

/**
 * Built-in functions that read settings or run SQL from a string, shadowed in
 * the query instances' own schema by macros that fail, so they fail even for
 * SQL that reached DuckDB without the guard. (Only an unqualified call is
 * shadowed; `system.main.…` is refused by the guard's qualifier rule, and
 * nothing they could show is outside the instance's own files.)
 */
const SHADOWED = [
  ['current_setting', ['name'], 'scalar'],
  ['getvariable', ['name'], 'scalar'],
  ['duckdb_settings', [], 'table'],
  ['duckdb_secrets', [], 'table'],
  ['which_secret', ['path', 'type'], 'table'],
  ['query', ['sql'], 'table'],
  ['query_table', ['name'], 'table'],
] as const;

const shadowStatements = SHADOWED.map(([name, parameters, kind]) => {
  const refusal = `error(${sqlString(`${name}() is not allowed in a query`)})`;
  const body = kind === 'table' ? `TABLE SELECT ${refusal} AS refused` : refusal;
  return `CREATE MACRO ${sqlIdentifier(name)}(${parameters.join(', ')}) AS ${body}`;
});

function keyOf(datasets: DatasetSources): string {
  const entries = Object.entries(datasets)
    .map(([name, source]) => [name, [...source.files].sort(), source.columns] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(entries);
}

export function createInstancePool(options: {
  storageDir: string;
  settings: InstanceSettings;
  /** Instances kept open when idle. */
  keep: number;
}): InstancePool {
  const storageDir = path.resolve(options.storageDir);
  const entries = new Set<Entry>();
  let closed = false;

  const open = (datasets: DatasetSources): Promise<LockedInstance> => {
    const files = Object.values(datasets).flatMap((source) => source.files);
    for (const file of files) assertStorageFile(storageDir, file);
    return openLockedInstance({
      ...options.settings,
      allowedPaths: files,
      setup: [
        ...shadowStatements,
        ...Object.entries(datasets).map(([name, source]) => viewStatement(name, source)),
      ],
    });
  };

  const shut = async (entry: Entry): Promise<void> => {
    const locked = await entry.opening.catch(() => undefined);
    for (const connection of entry.idle.splice(0)) connection.closeSync();
    await locked?.close();
  };

  /** Closes the least recently used idle instances past the number kept. */
  const trim = (): void => {
    if (entries.size <= options.keep) return;
    const idle = [...entries].filter((entry) => entry.users === 0).sort((a, b) => a.lastUsed - b.lastUsed);
    for (const entry of idle.slice(0, entries.size - options.keep)) {
      entries.delete(entry);
      void shut(entry);
    }
  };

  return {
    get size() {
      return entries.size;
    },
    lease: async (datasets) => {
      if (closed) throw new Error('The instance pool is closed');
      const key = keyOf(datasets);
      let entry = [...entries].find((candidate) => candidate.key === key && candidate.users === 0);
      if (!entry) {
        entry = { key, opening: open(datasets), users: 0, lastUsed: Date.now(), idle: [] };
        entries.add(entry);
      }
      const current = entry;
      current.users++;
      try {
        const locked = await current.opening;
        const connection = current.idle.pop() ?? (await locked.connect());
        let released = false;
        return {
          connection,
          release: (broken = false) => {
            if (released) return;
            released = true;
            current.users--;
            current.lastUsed = Date.now();
            if (broken || closed || !entries.has(current)) connection.closeSync();
            else current.idle.push(connection);
            trim();
          },
        };
      } catch (error) {
        current.users--;
        entries.delete(current);
        throw error;
      }
    },
    close: async () => {
      closed = true;
      const all = [...entries];
      entries.clear();
      await Promise.all(all.map(shut));
    },
  };
}
