import { Type } from 'typebox';
import { defineJobType, type JobType } from '@datalab/platform';
import { asJobError, type DataJobContext } from './job-context.ts';
import { OutputParams } from './job-output.ts';
import { writeOwnerQuery } from './owner-query.ts';
import { writeVersionOutput } from './version-output.ts';

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
 * job's owner. It is guarded and sees the owner's datasets exactly as the
 * query API's SQL does, without the answer's row cap; DuckDB writes the
 * answer straight into the new version's Parquet file.
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
        const result = await writeVersionOutput(
          context,
          { jobId, type: 'sql', owner, options, signal },
          async (files, outDir) => {
            await progress(10, 'writing the answer');
            const written = await writeOwnerQuery(
              { files, catalog: context.catalog, owner },
              sql,
              outDir,
              signal,
            );
            await progress(80, `${written.rows} rows written`);
            return { ...written, sourceFormat: 'query' };
          },
        );
        await log('info', `dataset ${result.name} has ${result.row_count} rows`);
        await progress(100, `${result.row_count} rows in dataset ${result.name}`);
        return result;
      }),
  });
}
