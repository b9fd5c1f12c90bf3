import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

/**
 * One DuckDB database in memory, configured once and then locked. DuckDB's
 * file access rules (`allowed_paths`, `allowed_directories`) belong to the
 * whole database, not to a connection, so the engine opens one of these per
 * set of files a caller may read (instance-pool.ts) and one per trusted
 * write (writer.ts): the rules then say exactly what that work may touch.
 */

export interface LockedInstanceOptions {
  /** DuckDB's memory_limit for this instance, in bytes. */
  memoryBytes: number;
  threads: number;
  /** A fresh directory is made inside for spilling, and removed on close. */
  tempRoot: string;
  /** Most bytes spilled to disk (max_temp_directory_size). */
  maxTempBytes: number;
  /** Files this instance may read (and nothing else outside its temp directory). */
  allowedPaths?: readonly string[];
  /** Directories (with everything under them) this instance may read and write. */
  allowedDirectories?: readonly string[];
  /** Rows keep their order (file order for ingest, stable pages for queries); default true. */
  preserveInsertionOrder?: boolean;
  /**
   * Statements run after the file rules are set and before the configuration
   * is locked (the engine's own views). They may read the allowed files only.
   */
  setup?: readonly string[];
}

export interface LockedInstance {
  instance: DuckDBInstance;
  /** The instance's own spill directory. */
  tempDir: string;
  connect(): Promise<DuckDBConnection>;
  /** Closes the database and removes its spill directory. */
  close(): Promise<void>;
}

/**
 * Interrupts what a connection runs. DuckDB forgets an interrupt that lands
 * between two steps of a run (extract, prepare, fetch), so once asked it
 * repeats until `clear()`.
 */
export function interrupter(connection: DuckDBConnection): { interrupt(): void; clear(): void } {
  let retry: NodeJS.Timeout | undefined;
  return {
    interrupt: () => {
      connection.interrupt();
      retry ??= setInterval(() => connection.interrupt(), 25);
    },
    clear: () => clearInterval(retry),
  };
}

/** A SQL string literal. */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A SQL identifier, quoted. */
export function sqlIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

const sqlList = (values: readonly string[]): string => `[${values.map(sqlString).join(', ')}]`;

/**
 * Opens a database whose configuration nobody can change afterwards. The
 * order matters: the file rules are set while access is still open, external
 * access is turned off (from then on only those files and the temp directory
 * can be opened, and no extension can be installed or loaded), then the
 * configuration is locked so no statement can undo any of it.
 */
export async function openLockedInstance(options: LockedInstanceOptions): Promise<LockedInstance> {
  const tempDir = path.join(options.tempRoot, randomUUID());
  await mkdir(tempDir, { recursive: true });
  let instance: DuckDBInstance | undefined;
  try {
    instance = await DuckDBInstance.create(':memory:', {
      memory_limit: `${Math.max(1, Math.floor(options.memoryBytes / 1024))}KiB`,
      threads: String(options.threads),
      temp_directory: tempDir,
      max_temp_directory_size: `${Math.max(0, Math.floor(options.maxTempBytes / 1024))}KiB`,
      preserve_insertion_order: String(options.preserveInsertionOrder ?? true),
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      allow_community_extensions: 'false',
      allow_unsigned_extensions: 'false',
      allow_persistent_secrets: 'false',
      // File contents cached in memory would outlive the query that read them.
      enable_external_file_cache: 'false',
    });
    const setup = await instance.connect();
    try {
      const statements = [
        // Re-reading a dataset's Parquet footers on every query is most of a small query's cost.
        'SET parquet_metadata_cache = true',
        `SET allowed_paths = ${sqlList(options.allowedPaths ?? [])}`,
        `SET allowed_directories = ${sqlList(options.allowedDirectories ?? [])}`,
        'SET enable_external_access = false',
        ...(options.setup ?? []),
        'SET lock_configuration = true',
      ];
      for (const statement of statements) await setup.run(statement);
    } finally {
      setup.closeSync();
    }
  } catch (error) {
    instance?.closeSync();
    await rm(tempDir, { recursive: true, force: true });
    throw error;
  }
  const opened = instance;
  return {
    instance: opened,
    tempDir,
    connect: () => opened.connect(),
    close: async () => {
      opened.closeSync();
      await rm(tempDir, { recursive: true, force: true });
    },
  };
}
