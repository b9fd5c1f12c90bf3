import { defineJobType, type JobType } from '@datalab/platform';
import { asJobError, type DataJobContext } from './job-context.ts';
import { queryAsOwner, writeOwnerQuery, type OwnerQueryDeps } from './owner-query.ts';
import { createTransformCompiler } from './transform.compile.ts';
import { TransformParams } from './transform.schemas.ts';
import { writeVersionOutput } from './version-output.ts';

/** A pivot's column values as text; JSON for anything that is not text already. */
const asText = (value: unknown): string | null =>
  value === null || value === undefined ? null : typeof value === 'string' ? value : JSON.stringify(value);

/**
 * `transform`: filter, derive, select, join, union, pivot, sample, split and
 * sort steps described in JSON, applied to a dataset the owner may read; the
 * rows that come out become a new dataset of the owner, written by DuckDB as
 * the `sql` job writes its answer.
 */
export function transformJob(context: DataJobContext): JobType {
  return defineJobType({
    type: 'transform',
    queue: 'data',
    params: TransformParams,
    timeoutMs: 60 * 60_000,
    maxAttempts: 3,
    handler: ({ jobId, params, owner, signal, progress, log }) =>
      asJobError(async () => {
        const { dataset, steps, ...options } = params;
        const result = await writeVersionOutput(
          context,
          { jobId, type: 'transform', owner, options, signal },
          async (files, outDir) => {
            const deps: OwnerQueryDeps = { files, catalog: context.catalog, owner };
            const compiler = createTransformCompiler({
              catalog: context.catalog,
              owner,
              guard: (sql) => files.engine.guard(sql),
              distinctValues: async (sql, limit) => {
                const limits = { maxRows: limit, timeoutMs: context.config.queryTimeoutMs, signal };
                return (await queryAsOwner(deps, sql, limits)).map(([value]) => asText(value));
              },
            });
            const sql = await compiler.compile({ dataset, steps });
            await log('info', `running ${steps.length} steps as one query`);
            await progress(10, 'query compiled; writing its rows');
            const written = await writeOwnerQuery(deps, sql, outDir, signal);
            await progress(80, `${written.rows} rows written`);
            return { ...written, sourceFormat: 'query' };
          },
        );
        await progress(100, `${result.row_count} rows in dataset ${result.name}`);
        return result;
      }),
  });
}
