import type { Principal } from '@datalab/platform';
import { qualifiedTable } from '../datasets/datasets.types.ts';
import { openCursor, type RowCursor } from '../query/executor.ts';
import { translateQueryError } from '../query/query-errors.ts';
import { sqlError } from '../query/sql-position.ts';
import { assertReadsOnly, rewriteReferences } from '../query/sql-rewrite.ts';
import type { DataJobContext } from './job-context.ts';

const BATCH_ROWS = 5000;

/** PostgreSQL positions count characters from 1; the rewrite maps bytes. */
function byteOffset(text: string, position: number): number {
  return Buffer.byteLength([...text].slice(0, position - 1).join(''));
}

/**
 * Opens `sql` the way the query API runs it for `owner`: the SQL guard, the
 * datasets the owner may read (anything else is "not found"), the rewrite to
 * their tables, the check that it reads nothing else, and the read-only
 * reader transaction on the restricted query login. No row cap: the rows go
 * into a dataset, not an HTTP answer; each fetch still has the query timeout.
 */
export async function openOwnerQuery(
  context: DataJobContext,
  owner: Principal,
  sql: string,
): Promise<RowCursor> {
  const guarded = await context.guard(sql);
  const datasets = [...(await context.catalog.readableByNames(owner, guarded.datasetNames)).values()];
  const tables = new Map(datasets.map((dataset) => [dataset.name, qualifiedTable(dataset)]));
  const rewritten = await rewriteReferences(sql, guarded.references, tables);
  await assertReadsOnly(rewritten.text, new Set(datasets.map((dataset) => dataset.tableName)));
  const timeoutMs = context.config.queryTimeoutMs;
  try {
    return await openCursor(
      context.queryPool,
      { text: rewritten.text, values: [] },
      { timeoutMs, batchSize: BATCH_ROWS },
    );
  } catch (error) {
    throw translateQueryError(error, timeoutMs, (message, position) =>
      sqlError(sql, message, rewritten.originalOffset(byteOffset(rewritten.text, position))),
    );
  }
}
