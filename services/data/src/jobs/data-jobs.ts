import type { JobTypeFactory } from '@datalab/platform';
import { createDataJobContext } from './job-context.ts';
import { importUrlJob } from './import-url.job.ts';
import { profileJob } from './profile.job.ts';
import { sqlJob } from './sql.job.ts';
import { transformJob } from './transform.job.ts';

/**
 * The data-service's job types, built in whichever process runs jobs (the
 * compute-service in embedded mode, `datalab worker` otherwise) from that
 * process's own connections.
 */
export const dataJobTypes: JobTypeFactory = (deps) => {
  const context = createDataJobContext(deps);
  return [sqlJob(context), transformJob(context), importUrlJob(context), profileJob(context)];
};
