import { AppError, type Principal } from '@datalab/platform';
import { createCatalog } from '../datasets/datasets.catalog.ts';
import type { DatasetsRepository } from '../datasets/datasets.repository.ts';
import type { DatasetFiles } from '../versions/dataset-files.ts';
import type { DatasetProfile } from './browse.schemas.ts';
import { computeProfile, type ProfileLimits } from './profile.compute.ts';
import type { ProfileMetrics } from './profile.metrics.ts';
import type { ProfileRepository, StoredProfile } from './profile.repository.ts';

function toView(stored: StoredProfile): DatasetProfile {
  return { ...stored.profile, computed_at: stored.computedAt.toISOString() };
}

export function createProfileService(
  datasets: DatasetsRepository,
  profiles: ProfileRepository,
  files: DatasetFiles,
  limits: ProfileLimits,
  metrics: ProfileMetrics,
) {
  const catalog = createCatalog(datasets);

  return {
    /** The profile of the dataset's current version: computed by the first request, then read back. */
    async get(principal: Principal, idOrName: string): Promise<DatasetProfile> {
      const dataset = await catalog.readable(principal, idOrName);
      const stored = await profiles.stored(dataset.id, dataset.version);
      if (stored) return toView(stored);
      return profiles.exclusive(dataset.id, async (db) => {
        // Read again under the lock: the version may have moved on, or another request computed it meanwhile.
        const current = await datasets.find(dataset.id, db);
        if (!current) throw new AppError('not_found', 'Dataset not found');
        const done = await profiles.stored(current.id, current.version, db);
        if (done) return toView(done);
        const stop = metrics.startProfile();
        const profile = await computeProfile(files, current, limits);
        const saved = await profiles.save(db, profile);
        stop();
        return toView(saved);
      });
    },
  };
}

export type ProfileService = ReturnType<typeof createProfileService>;
