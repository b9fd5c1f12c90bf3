import { defineJobType, type JobType } from '@datalab/platform';
import { asJobError, type DataJobContext } from './job-context.ts';
import { writeOutput } from './job-output.ts';
import { jobSession, openOwnerQuery } from './owner-query.ts';
import { copyCursor } from './query-output.ts';
import { createTransformCompiler } from './transform.compile.ts';
import { TransformParams } from './transform.schemas.ts';

/**
 * `transform`: filter, derive, select, join, union, pivot, sample, split and
 * sort steps described in JSON, applied to a dataset the owner may read; the
 * rows that come out become a new dataset of the owner.
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
        const result = await writeOutput(
          context,
          { jobId, type: 'transform', owner, options },
          async (client, table) => {
            const compiler = createTransformCompiler({
              catalog: context.catalog,
              owner,
              distinctValues: async (sql) => {
                const cursor = await openOwnerQuery(context, owner, sql);
                const values: (string | null)[] = [];
                for await (const batch of cursor.batches())
                  for (const [value] of batch)
                    values.push(
                      value === null || value === undefined
                        ? null
                        : typeof value === 'string'
                          ? value
                          : JSON.stringify(value),
                    );
                return values;
              },
            });
            const sql = await compiler.compile({ dataset, steps });
            await log('info', `running ${steps.length} steps as one query`);
            await progress(10, 'query compiled');
            const cursor = await openOwnerQuery(context, owner, sql);
            return copyCursor(
              client,
              table,
              cursor,
              { signal, onRows: (rows) => progress(50, `${rows} rows written`) },
              jobSession(context),
            );
          },
        );
        await progress(100, `${result.row_count} rows in dataset ${result.name}`);
        return result;
      }),
  });
}
