import { Type } from 'typebox';
import { defineJobType, type JobType } from '@datalab/platform';
import { asJobError, type DataJobContext } from './job-context.ts';
import { OutputParams, writeOutput } from './job-output.ts';
import { jobSession, openOwnerQuery } from './owner-query.ts';
import { copyCursor } from './query-output.ts';

export const SqlJobParams = Type.Object(
  {
    sql: Type.String({
      minLength: 1,
      maxLength: 100_000,
      description: 'One SELECT over dataset names, as `POST /api/v1/data/query` takes it.',
    }),
    ...OutputParams,
  },
  { additionalProperties: false },
);

/**
 * `sql`: a read-only query whose whole answer becomes a new dataset of the
 * job's owner. It runs exactly as the query API runs the owner's SQL (guard,
 * catalog, reader role), without the answer's row cap.
 */
export function sqlJob(context: DataJobContext): JobType {
  return defineJobType({
    type: 'sql',
    queue: 'data',
    params: SqlJobParams,
    timeoutMs: 60 * 60_000,
    maxAttempts: 3,
    handler: ({ jobId, params, owner, signal, progress, log }) =>
      asJobError(async () => {
        const { sql, ...options } = params;
        const result = await writeOutput(
          context,
          { jobId, type: 'sql', owner, options },
          async (client, table) => {
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
        await log('info', `dataset ${result.name} has ${result.row_count} rows`);
        await progress(100, `${result.row_count} rows in dataset ${result.name}`);
        return result;
      }),
  });
}
