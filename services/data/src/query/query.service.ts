import type { Cache, Pool, Principal, ServiceMetrics } from '@datalab/platform';
import type { Catalog } from '../datasets/datasets.catalog.ts';
import { qualifiedTable, type Dataset } from '../datasets/datasets.types.ts';
import { spoolAnswer, spooledAnswer, wholeAnswer, type QueryAnswer } from './answers.ts';
import { runBounded } from './bounded.ts';
import type { Statement } from './executor.ts';
import { createDatasetExport } from './export.ts';
import { CONTENT_TYPES } from './formats.ts';
import { answerLimits, answerTooLarge, userSqlOff } from './limits.ts';
import { cacheKey, canonicalJson, createQueryCache } from './query-cache.ts';
import type { QueryConfig } from './query.config.ts';
import { translateQueryError, type Locate } from './query-errors.ts';
import { createQueryMetrics, type QueryKind } from './query.metrics.ts';
import type { QueryBody, QueryFormat, StructuredQuery } from './query.schemas.ts';
import { memoizedGuard } from './sql-guard.ts';
import { sqlError } from './sql-position.ts';
import { assertReadsOnly, rewriteReferences } from './sql-rewrite.ts';
import { compileStructured } from './structured.ts';

export interface QueryServiceDeps {
  /** The restricted login user SQL runs on (QUERY_DATABASE_URL); without one, `{ sql }` is refused. */
  queryPool: Pool | undefined;
  /**
   * Where structured queries and exports run when there is no query login (the SQL is DataLab's
   * own): the replica when READ_DATABASE_URL is set, else the primary.
   */
  readPool: Pool;
  catalog: Catalog;
  cache: Cache;
  metrics: ServiceMetrics;
  config: QueryConfig;
}

interface Runnable {
  statement: Statement;
  locate?: Locate;
}

interface Prepared {
  kind: QueryKind;
  datasets: Dataset[];
  normalized: string;
  /** The statement to run, built only when the cache has no answer. */
  build: () => Promise<Runnable>;
}

const BATCH_ROWS = 5000;

/** PostgreSQL positions count characters from 1; the rewrite maps bytes. */
function byteOffset(text: string, position: number): number {
  return Buffer.byteLength([...text].slice(0, position - 1).join(''));
}

export function createQueryService(deps: QueryServiceDeps) {
  const { config } = deps;
  const metrics = createQueryMetrics(deps.metrics);
  const cache = createQueryCache(
    deps.cache,
    { ttlSeconds: config.queryCacheTtlSeconds, maxEntryBytes: config.queryCacheMaxEntryBytes },
    metrics,
  );

  const guard = memoizedGuard(config.queryGuardMemoBytes);
  const pool = deps.queryPool ?? deps.readPool;
  const limits = answerLimits(config, deps.queryPool !== undefined);
  const translate = (error: unknown, locate?: Locate) =>
    translateQueryError(
      error,
      { timeoutMs: config.queryTimeoutMs, tempFileBytes: limits.tempFileBytes },
      locate,
    );

  async function prepareSql(principal: Principal, sql: string): Promise<Prepared> {
    const guarded = await guard(sql);
    const datasets = [...(await deps.catalog.readableByNames(principal, guarded.datasetNames)).values()];
    const build = async (): Promise<Runnable> => {
      const tables = new Map(datasets.map((dataset) => [dataset.name, qualifiedTable(dataset)]));
      const rewritten = await rewriteReferences(sql, guarded.references, tables);
      await assertReadsOnly(rewritten.text, new Set(datasets.map((dataset) => dataset.tableName)));
      return {
        statement: { text: rewritten.text, values: [] },
        locate: (message, position) =>
          sqlError(sql, message, rewritten.originalOffset(byteOffset(rewritten.text, position))),
      };
    };
    return { kind: 'sql', datasets, normalized: guarded.normalized, build };
  }

  async function prepareStructured(principal: Principal, query: StructuredQuery): Promise<Prepared> {
    const dataset = await deps.catalog.readable(principal, query.dataset);
    // Compiled now, so a bad query is refused even when an equal-looking one was cached.
    const statement = compileStructured(query, dataset);
    const rest: Partial<StructuredQuery> = { ...query };
    delete rest.format;
    return {
      kind: 'structured',
      datasets: [dataset],
      // By id, so asking by name or by id is one cache entry.
      normalized: canonicalJson({ ...rest, dataset: dataset.id }),
      build: async () => ({ statement }),
    };
  }

  async function run(principal: Principal, body: QueryBody, format: QueryFormat): Promise<QueryAnswer> {
    if ('sql' in body && !deps.queryPool) throw userSqlOff();
    const done = metrics.start('sql' in body ? 'sql' : 'structured');
    const prepared =
      'sql' in body ? await prepareSql(principal, body.sql) : await prepareStructured(principal, body);
    const { datasets } = prepared;
    const key = cacheKey({ ...prepared, principal, format, maxRows: config.queryMaxRows });
    const hit = await cache.get(key);
    if (hit) {
      done(true);
      return wholeAnswer(hit.contentType, hit.body, hit.truncated);
    }
    const { statement, locate } = await prepared.build();
    const spooled = await (async () => {
      const cursor = await runBounded(pool, statement, {
        timeoutMs: config.queryTimeoutMs,
        maxRows: config.queryMaxRows,
        batchSize: Math.min(BATCH_ROWS, config.queryMaxRows + 1),
        expectVersions: new Map(datasets.map((dataset) => [dataset.id, dataset.version])),
        limits,
      });
      const answer = await spoolAnswer(cursor, format, {
        memoryBytes: config.querySpoolMemoryBytes,
        maxBytes: config.queryMaxAnswerBytes,
        tooLarge: () => answerTooLarge(config.queryMaxAnswerBytes),
      });
      return { answer, truncated: cursor.truncated, consistent: cursor.consistent };
    })().catch((error: unknown) => {
      throw translate(error, locate);
    });
    done(false);
    // A lagging replica's answer must not be stored under the newer version's key.
    if (!spooled.consistent || spooled.answer.size > cache.maxEntryBytes)
      return spooledAnswer(format, spooled.answer, spooled.truncated);
    const whole = await spooled.answer.toBuffer();
    await spooled.answer.discard();
    await cache.set(key, { contentType: CONTENT_TYPES[format], truncated: spooled.truncated, body: whole });
    return { ...wholeAnswer(CONTENT_TYPES[format], whole, spooled.truncated), cached: false };
  }

  const { exportDataset } = createDatasetExport({
    pool,
    restricted: deps.queryPool !== undefined,
    catalog: deps.catalog,
    config,
  });
  return { run, exportDataset };
}

export type QueryService = ReturnType<typeof createQueryService>;
