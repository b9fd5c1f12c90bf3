import type { JobType } from '@datalab/platform';
import { noopJob } from './noop.ts';

/** The job types this engine knows, by name. */
export interface JobTypeRegistry {
  get: (type: string) => JobType | undefined;
  names: () => string[];
  /** Every queue some type runs on. */
  queues: () => string[];
}

export function createJobTypeRegistry(types: readonly JobType[]): JobTypeRegistry {
  const byName = new Map<string, JobType>();
  for (const type of types) {
    if (byName.has(type.type)) throw new Error(`job type "${type.type}" is registered twice`);
    byName.set(type.type, type);
  }
  return {
    get: (type) => byName.get(type),
    names: () => [...byName.keys()].sort(),
    queues: () => [...new Set(types.map((type) => type.queue))].sort(),
  };
}

/** The types every compute-service and worker runs. New types (sql, transform, profile, import-url) join here. */
export const builtInJobTypes: readonly JobType[] = [noopJob];
