import path from 'node:path';
import { AppError } from '@datalab/platform';
import { positionAt } from '../query/sql-position.ts';
import { openLockedInstance } from './duck-instance.ts';
import { guardSql, memoizedGuard, type GuardedSql, type ParseSql } from './duck-guard.ts';
import type { EngineConfig } from './engine.config.ts';
import { createInstancePool, type DatasetSources } from './instance-pool.ts';
import { runStatement, type QueryResult, type RunLimits } from './run-statement.ts';
import { closedError, createSlots } from './slots.ts';
import { createWriter, type Writer } from './writer.ts';

/**
 * The data engine of one process: DuckDB over the datasets' Parquet files.
 * Every query and every write takes one of a fixed number of slots (the rest
 * wait in a bounded line), and each slot gets an equal share of the memory
 * and spill budgets, so the process stays within them whatever runs at once.
 */

export interface EngineOptions {
  config: EngineConfig;
  /** Where dataset versions' Parquet files live; queries may read files under it only. */
  storageDir: string;
  /** Where uploaded files wait to be ingested: the writer reads input files from under it only. */
  uploadDir: string;
  /** Where DuckDB spills (a folder per instance, removed when it closes), under the data directory. */
  tempDir: string;
}

export interface QueryRequest {
  sql: string;
  /**
   * The datasets the caller may read, by the name SQL uses. A query sees only
   * the ones its SQL names; any other name is "not found".
   */
  datasets: DatasetSources;
  limits: Omit<RunLimits, 'maxBytes'> & { maxBytes?: number };
}

export interface Engine {
  /** Parses and checks user SQL (memoized); throws a 400 naming the place at fault. */
  guard(sql: string): Promise<GuardedSql>;
  /** Runs the caller's SQL: guarded, then run where only the datasets it names exist. */
  query(request: QueryRequest): Promise<QueryResult>;
  /** Runs SQL the service wrote itself (structured queries, browsing, profiles): no guard, same instance rules and limits. */
  run(request: QueryRequest): Promise<QueryResult>;
  /** Trusted writes of new dataset versions (ingest, jobs). */
  readonly writer: Writer;
  stats(): { active: number; waiting: number; instances: number };
  /** Refuses new work, interrupts running queries, closes every DuckDB instance. */
  close(): Promise<void>;
}

function pick(datasets: DatasetSources, guarded: GuardedSql, sql: string): DatasetSources {
  const byName = new Map(
    Object.entries(datasets).map(([name, source]) => [name.toLowerCase(), [name, source] as const]),
  );
  const picked: Record<string, DatasetSources[string]> = {};
  for (const name of guarded.datasetNames) {
    const found = byName.get(name);
    if (!found) {
      const reference = guarded.references.find((ref) => ref.name.toLowerCase() === name);
      const at = reference?.location === undefined ? undefined : positionAt(sql, reference.location);
      throw new AppError('not_found', `Dataset "${reference?.name ?? name}" not found`, {
        errors: [{ field: '/body/sql', message: `Dataset "${reference?.name ?? name}" not found` }],
        ...(at ? { extensions: { position: at.position, line: at.line, column: at.column } } : {}),
      });
    }
    picked[found[0]] = found[1];
  }
  return picked;
}

export async function createEngine(options: EngineOptions): Promise<Engine> {
  const { config } = options;
  const tempDir = path.resolve(options.tempDir);
  const slotMemory = Math.floor((config.engineMemoryMb * 1024 * 1024) / config.engineSlots);
  const slotTemp = Math.floor((config.engineTempMb * 1024 * 1024) / config.engineSlots);
  const settings = {
    memoryBytes: slotMemory,
    threads: config.engineThreads,
    tempRoot: tempDir,
    maxTempBytes: slotTemp,
  };
  const slots = createSlots(config.engineSlots, config.engineQueueLength);
  const pool = createInstancePool({
    storageDir: options.storageDir,
    settings,
    keep: Math.max(config.engineInstances, config.engineSlots),
  });
  // Parsing needs no file and little memory: one small locked instance, one statement at a time.
  const parser = await openLockedInstance({
    ...settings,
    memoryBytes: 64 * 1024 * 1024,
    threads: 1,
    maxTempBytes: 0,
  });
  const parserConnection = await parser.connect();
  let parsing: Promise<unknown> = Promise.resolve();
  /** One statement at a time on the parser's connection; `sql` is always a parameter, never part of the text. */
  const parserValue = (statement: string, sql: string): Promise<string> => {
    const next = parsing.then(async () => {
      const reader = await parserConnection.runAndReadAll(statement, [sql]);
      return String(reader.getRows()[0]?.[0] ?? '');
    });
    parsing = next.catch(() => undefined);
    return next;
  };
  const parse: ParseSql = (sql) => parserValue('SELECT json_serialize_sql($1::VARCHAR)', sql);
  const guard =
    config.engineGuardMemoBytes > 0
      ? memoizedGuard(parse, config.engineGuardMemoBytes)
      : (sql: string) => guardSql(sql, parse);
  // Every query and write listens to this as well as to its caller: closing the engine stops them all.
  const shutdown = new AbortController();
  const closed = (): boolean => shutdown.signal.aborted;
  const lifetime = (signal: AbortSignal | undefined): AbortSignal =>
    signal ? AbortSignal.any([signal, shutdown.signal]) : shutdown.signal;

  const execute = async (
    sql: string,
    datasets: DatasetSources,
    request: QueryRequest,
  ): Promise<QueryResult> => {
    if (closed()) throw closedError();
    const signal = lifetime(request.limits.signal);
    const release = await slots.acquire(signal);
    let lease;
    try {
      lease = await pool.lease(datasets);
    } catch (error) {
      release();
      throw error;
    }
    const held = lease;
    const done = (broken: boolean): void => {
      held.release(broken);
      release();
    };
    return runStatement(
      held.connection,
      sql,
      { maxBytes: config.engineMaxAnswerBytes, ...request.limits, signal },
      done,
    );
  };

  return {
    guard,
    query: async (request) => {
      if (closed()) throw closedError();
      const guarded = await guard(request.sql);
      return execute(request.sql, pick(request.datasets, guarded, request.sql), request);
    },
    run: (request) => execute(request.sql, request.datasets, request),
    writer: createWriter({
      storageDir: options.storageDir,
      uploadDir: options.uploadDir,
      lifetime,
      settings,
      slots,
      canonical: async (select) => {
        await guard(select);
        return parserValue('SELECT json_deserialize_sql(json_serialize_sql($1::VARCHAR))', select);
      },
    }),
    stats: () => ({ active: slots.active, waiting: slots.waiting, instances: pool.size }),
    close: async () => {
      if (closed()) return;
      slots.close();
      shutdown.abort(closedError());
      parserConnection.closeSync();
      await Promise.all([pool.close(), parser.close()]);
    },
  };
}
