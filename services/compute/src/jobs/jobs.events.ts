import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Events, Principal } from '@datalab/platform';
import { CHANGES_CHANNEL, isChangeMessage } from '../engine/job-events.ts';
import { FINAL_STATES, type Job } from './jobs.schemas.ts';
import type { JobsService } from './jobs.service.ts';

export interface JobStreamOptions {
  /** Re-read the job this often even without events (a lost event, another process's memory bus). */
  pollMs: number;
  /** A comment line this often keeps proxies from closing a quiet stream. */
  keepAliveMs: number;
}

/** What a watcher is told; a new message only when one of these changed. */
function snapshot(job: Job) {
  const { id, state, progress, progress_message, attempts, max_attempts, result, error, updated_at } = job;
  return { id, state, progress, progress_message, attempts, max_attempts, result, error, updated_at };
}

/**
 * One subscription to the change announcements for every stream of this process; each stream hears
 * only about its own job. Subscribed at the first stream, again after a failed attempt.
 */
function createChangeWatchers(events: Events) {
  const watchers = new Map<string, Set<() => void>>();
  let subscription: Promise<() => Promise<void>> | undefined;
  const hear = (message: unknown): void => {
    if (!isChangeMessage(message)) return;
    for (const id of message.ids) for (const watcher of watchers.get(id) ?? []) watcher();
  };
  return {
    /** Calls `onChange` whenever job `id` is announced changed, until the returned function is called. */
    watch: async (id: string, onChange: () => void): Promise<() => void> => {
      subscription ??= events.subscribe(CHANGES_CHANNEL, hear).catch((error: unknown) => {
        subscription = undefined;
        throw error;
      });
      await subscription;
      const forJob = watchers.get(id) ?? new Set();
      watchers.set(id, forJob.add(onChange));
      return () => {
        forJob.delete(onChange);
        if (forJob.size === 0 && watchers.get(id) === forJob) watchers.delete(id);
      };
    },
    close: async (): Promise<void> => {
      const unsubscribe = await subscription?.catch(() => undefined);
      subscription = undefined;
      await unsubscribe?.();
    },
  };
}

/**
 * Server-Sent Events for one job: `state` when its state changes, `progress`
 * when only its progress does, each carrying the job's status; the stream ends
 * after the job reaches a final state. Change events from any instance (Events
 * port) trigger a re-read of PostgreSQL, which stays the only source.
 */
export function createJobStreams(jobs: JobsService, events: Events, options: JobStreamOptions) {
  const open = new Set<() => void>();
  const changes = createChangeWatchers(events);

  async function stream(principal: Principal, id: string, request: FastifyRequest, reply: FastifyReply) {
    // Unreadable or unknown jobs answer 404 problem+json before the stream starts.
    let last = await jobs.get(principal, id);
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      'x-request-id': request.id,
    });
    let ended = false;
    // Filled once subscribed; the stream may end before that (client gone).
    const subscription: { unsubscribe?: () => void } = {};
    const timers: NodeJS.Timeout[] = [];
    const end = (): void => {
      if (ended) return;
      ended = true;
      open.delete(end);
      for (const timer of timers) clearInterval(timer);
      subscription.unsubscribe?.();
      raw.end();
    };
    open.add(end);
    request.raw.on('close', end);

    let sent = '';
    const send = (job: Job, event: 'state' | 'progress'): void => {
      const data = JSON.stringify(snapshot(job));
      const key = JSON.stringify([job.state, job.progress, job.progress_message, job.attempts, job.error]);
      if (key === sent || ended) return;
      sent = key;
      raw.write(`event: ${event}\ndata: ${data}\n\n`);
      if (FINAL_STATES.includes(job.state)) end();
    };

    let reading = false;
    let again = false;
    const refresh = async (): Promise<void> => {
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      try {
        do {
          again = false;
          const job = await jobs.get(principal, id);
          send(job, job.state === last.state ? 'progress' : 'state');
          last = job;
        } while (again && !ended);
      } catch {
        // Deleted (or the database is briefly away): the stream cannot go on truthfully.
        end();
      } finally {
        reading = false;
      }
    };

    send(last, 'state');
    if (ended) return;
    subscription.unsubscribe = await changes.watch(id, () => void refresh());
    if (ended) return subscription.unsubscribe();
    timers.push(setInterval(() => void refresh(), options.pollMs));
    timers.push(setInterval(() => raw.write(': keep-alive\n\n'), options.keepAliveMs));
    await refresh();
  }

  return {
    stream,
    /** Ends every open stream, so the server can close. */
    closeAll: async (): Promise<void> => {
      for (const end of [...open]) end();
      await changes.close();
    },
  };
}

export type JobStreams = ReturnType<typeof createJobStreams>;
