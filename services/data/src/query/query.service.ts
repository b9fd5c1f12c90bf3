import type { Cache, Pool, Principal, ServiceMetrics } from '@datalab/platform';
import type { Catalog } from '../datasets/datasets.catalog.ts';
import { qualifiedTable, type Dataset } from '../datasets/datasets.types.ts';
import { streamAnswer, wholeAnswer, type QueryAnswer } from './answers.ts';
import { runBounded } from './bounded.ts';
import type { RowCursor, Statement } from './executor.ts';
import { createDatasetExport } from './export.ts';
import { CONTENT_TYPES } from './formats.ts';
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
  /** Where queries and exports run: the replica when READ_DATABASE_URL is set, else the primary. */
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

  const guard = memoizedGuard();

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
    let cursor: RowCursor;
    try {
      cursor = await runBounded(deps.readPool, statement, {
        timeoutMs: config.queryTimeoutMs,
        maxRows: config.queryMaxRows,
        batchSize: Math.min(BATCH_ROWS, config.queryMaxRows + 1),
        expectVersions: new Map(datasets.map((dataset) => [dataset.id, dataset.version])),
      });
    } catch (error) {
      throw translateQueryError(error, config.queryTimeoutMs, locate);
    }
    return streamAnswer(cursor, format, {
      // A lagging replica's answer must not be stored under the newer version's key.
      keepBytes: cursor.consistent ? cache.maxEntryBytes : 0,
      onComplete: async (whole) => {
        done(false);
        if (whole)
          await cache.set(key, {
            contentType: CONTENT_TYPES[format],
            truncated: cursor.truncated,
            body: whole,
          });
      },
    });
  }

  const { exportDataset } = createDatasetExport({
    readPool: deps.readPool,
    catalog: deps.catalog,
    timeoutMs: config.queryTimeoutMs,
  });
  return { run, exportDataset };
}

export type QueryService = ReturnType<typeof createQueryService>;
