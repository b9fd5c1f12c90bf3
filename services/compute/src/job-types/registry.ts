import type { JobType, JobTypeDeps, JobTypeFactory } from '@datalab/platform';
import { aiJobTypes } from '@datalab/ai-service';
import { dataJobTypes } from '@datalab/data-service';
import { vizJobTypes } from '@datalab/viz-service';
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

/** The engine's own types. */
const computeJobTypes: JobTypeFactory = () => [noopJob];

/**
 * Where each service's job types come from: a handler lives with the service
 * that owns its domain, and every compute-service and worker runs them all.
 */
export const jobTypeFactories: readonly JobTypeFactory[] = [
  computeJobTypes,
  dataJobTypes,
  aiJobTypes,
  vizJobTypes,
];

/** The registry of every type, built from this process's own connections. */
export function buildJobTypeRegistry(
  deps: JobTypeDeps,
  factories: readonly JobTypeFactory[] = jobTypeFactories,
): JobTypeRegistry {
  return createJobTypeRegistry(factories.flatMap((factory) => factory(deps)));
}
