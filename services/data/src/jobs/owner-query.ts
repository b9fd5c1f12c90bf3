import { PermanentJobError, type Principal } from '@datalab/platform';
import { qualifiedTable } from '../datasets/datasets.types.ts';
import { openCursor, type RowCursor } from '../query/executor.ts';
import { jobLimits, userSqlOff } from '../query/limits.ts';
import { translateQueryError, type SessionSettings } from '../query/query-errors.ts';
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
 * reader transaction on the restricted query login (without one it is refused).
 * No row cap: the rows go into a dataset, not an HTTP answer; each fetch still
 * has the query timeout, and each row the answer's byte budget.
 */
export async function openOwnerQuery(
  context: DataJobContext,
  owner: Principal,
  sql: string,
): Promise<RowCursor> {
  // A deployment's setting, not something a retry of this job could change.
  if (!context.queryPool) throw new PermanentJobError(userSqlOff().message);
  const guarded = await context.guard(sql);
  const datasets = [...(await context.catalog.readableByNames(owner, guarded.datasetNames)).values()];
  const tables = new Map(datasets.map((dataset) => [dataset.name, qualifiedTable(dataset)]));
  const rewritten = await rewriteReferences(sql, guarded.references, tables);
  await assertReadsOnly(rewritten.text, new Set(datasets.map((dataset) => dataset.tableName)));
  const limits = jobLimits(context.config);
  try {
    return await openCursor(
      context.queryPool,
      { text: rewritten.text, values: [] },
      { timeoutMs: context.config.queryTimeoutMs, batchSize: BATCH_ROWS, limits },
    );
  } catch (error) {
    throw translateQueryError(error, jobSession(context), (message, position) =>
      sqlError(sql, message, rewritten.originalOffset(byteOffset(rewritten.text, position))),
    );
  }
}

/** The limits a job's query runs under, to name the one a refusal is about. */
export function jobSession(context: DataJobContext): SessionSettings {
  return {
    timeoutMs: context.config.queryTimeoutMs,
    tempFileBytes: jobLimits(context.config).tempFileBytes,
  };
}
