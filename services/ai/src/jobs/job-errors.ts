import { isAppError, PermanentJobError } from '@datalab/platform';

/** Kinds a retry cannot fix: the job fails at once instead of burning its attempts. */
const PERMANENT = new Set(['invalid', 'not_found', 'forbidden', 'unauthorized', 'conflict', 'too_large']);

export async function permanentOnBadInput<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isAppError(error) && PERMANENT.has(error.kind)) {
      const fields = error.errors?.map((e) => `${e.field} ${e.message}`).join('; ');
      throw new PermanentJobError(fields ? `${error.message} (${fields})` : error.message);
    }
    throw error;
  }
}
