import type { Events, Logger } from '@datalab/platform';

/** Ask whichever worker runs the job to abort it (every worker listens). */
export const CANCEL_CHANNEL = 'jobs.cancel';

/** Jobs whose state or progress changed: their watchers read them again. */
export const CHANGES_CHANNEL = 'jobs.changed';

/** A message on `CHANGES_CHANNEL`. */
export interface ChangeMessage {
  ids: string[];
}

export interface CancelMessage {
  id: string;
}

export function isCancelMessage(message: unknown): message is CancelMessage {
  return typeof (message as CancelMessage | null)?.id === 'string';
}

export function isChangeMessage(message: unknown): message is ChangeMessage {
  const ids = (message as ChangeMessage | null)?.ids;
  return Array.isArray(ids) && ids.every((id) => typeof id === 'string');
}

/** Ids per message at most, so one message stays small. */
const PER_MESSAGE = 500;

/** Announces that a job changed. */
export type Announce = (id: string) => void;

/**
 * Fire and forget: a lost event only delays a watcher (it also polls) or a
 * cancel (the worker also learns it when renewing its lease). The changes made
 * in one turn of the event loop go out together, as one message on one channel:
 * a worker finishing a batch of jobs publishes once, not once per job.
 */
export function createAnnouncer(events: Events, logger: Logger): Announce {
  let changed = new Set<string>();
  const flush = (): void => {
    const ids = [...changed];
    changed = new Set();
    for (let start = 0; start < ids.length; start += PER_MESSAGE) {
      const message: ChangeMessage = { ids: ids.slice(start, start + PER_MESSAGE) };
      events.publish(CHANGES_CHANNEL, message).catch((error: unknown) => {
        logger.debug({ err: error, jobs: message.ids.length }, 'could not publish job changes');
      });
    }
  };
  return (id) => {
    if (changed.size === 0) setImmediate(flush);
    changed.add(id);
  };
}
