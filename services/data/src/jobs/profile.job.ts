import { Type } from 'typebox';
import { defineJobType, type JobType } from '@datalab/platform';
import { computeProfile } from '../browse/profile.compute.ts';
import { createProfileRepository } from '../browse/profile.repository.ts';
import { asJobError, type DataJobContext } from './job-context.ts';

export const ProfileParams = Type.Object(
  {
    dataset: Type.String({ minLength: 1, maxLength: 100, description: 'A dataset, by name or id.' }),
    partitions: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 64,
        description:
          'Accepted as before and no longer used: DuckDB profiles every row in one pass, on all the threads a query may use.',
      }),
    ),
  },
  { additionalProperties: false },
);

/** A profile job may take as long as the job itself: it exists for datasets too large to profile within a request. */
const TIMEOUT_MS = 2 * 60 * 60_000;

/**
 * `profile`: the exact profile of a dataset's current version, computed by
 * DuckDB in the worker from the version's files, as `GET …/profile` computes
 * it but without the request's time limit. Stored as the version's profile
 * (GET …/profile serves it afterwards) unless the dataset moved on meanwhile,
 * and the job's result.
 */
export function profileJob(context: DataJobContext): JobType {
  const profiles = createProfileRepository(context.pool, context.pool);
  return defineJobType({
    type: 'profile',
    queue: 'data',
    params: ProfileParams,
    timeoutMs: TIMEOUT_MS,
    maxAttempts: 3,
    handler: ({ params, owner, signal, progress, log }) =>
      asJobError(async () => {
        const dataset = await context.catalog.readable(owner, params.dataset);
        await log('info', `profiling ${dataset.name} v${dataset.version}`);
        const files = await context.files();
        const profile = await computeProfile(files, dataset, {
          timeoutMs: TIMEOUT_MS,
          timeoutSetting: 'the job’s time limit',
          signal,
        });
        const stored = await profiles.saveIfCurrent(profile);
        await progress(100, `${profile.row_count} rows, ${profile.columns.length} columns`);
        return {
          dataset_id: dataset.id,
          version: dataset.version,
          stored,
          url: `/api/v1/data/datasets/${dataset.id}/profile`,
          profile,
        };
      }),
  });
}
