import type { Events, Logger } from '@datalab/platform';

/** Ask whichever worker runs the job to abort it (every worker listens). */
export const CANCEL_CHANNEL = 'jobs.cancel';

/** Something about this job changed (state or progress): its watchers read it again. */
export const jobChannel = (id: string): string => `jobs.${id}`;

export interface CancelMessage {
  id: string;
}

export function isCancelMessage(message: unknown): message is CancelMessage {
  return typeof (message as CancelMessage | null)?.id === 'string';
}

/**
 * Fire and forget: a lost event only delays a watcher (it also polls) or a
 * cancel (the worker also learns it when renewing its lease).
 */
export function announceChange(events: Events, logger: Logger, id: string): void {
  events.publish(jobChannel(id), { id }).catch((error: unknown) => {
    logger.debug({ err: error, job_id: id }, 'could not publish a job change');
  });
}
