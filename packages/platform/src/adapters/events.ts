import { setTimeout as sleep } from 'node:timers/promises';
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

export type EventHandler = (message: unknown) => void;

/** Fire-and-forget pub/sub between instances (job progress, cache invalidation, ...). */
export interface Events {
  publish: (channel: string, message: unknown) => Promise<void>;
  /** Resolves once the subscription is active; the returned function unsubscribes. */
  subscribe: (channel: string, handler: EventHandler) => Promise<() => Promise<void>>;
  close: () => Promise<void>;
}

export function createMemoryEvents(): Events {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    publish: async (channel, message) => {
      // Delivered on a later tick, like a real broker, so publishers never run subscriber code inline.
      const copy: unknown = structuredClone(message);
      setImmediate(() => emitter.emit(channel, copy));
    },
    subscribe: async (channel, handler) => {
      emitter.on(channel, handler);
      return async () => void emitter.off(channel, handler);
    },
    close: async () => void emitter.removeAllListeners(),
  };
}

const SUBSCRIBE_ATTEMPTS = 5;

/**
 * SUBSCRIBE runs under the connection's command timeout, and an overloaded
 * process or Redis can miss it once; giving up at once would leave a service
 * without its invalidations (or crash it on the rejection), so it tries again.
 */
async function subscribeWithRetry(subscriber: Redis, channel: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await subscriber.subscribe(channel);
      return;
    } catch (error) {
      if (attempt >= SUBSCRIBE_ATTEMPTS) throw error;
      await sleep(attempt * 250);
    }
  }
}

/** `publisher` is the shared connection; `subscriber` a dedicated one (Redis requires it). */
export function createRedisEvents(publisher: Redis, subscriber: Redis, prefix: string): Events {
  const local = createMemoryEvents();
  const counts = new Map<string, number>();
  subscriber.on('message', (channel: string, raw: string) => {
    let message: unknown;
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    void local.publish(channel.slice(prefix.length), message);
  });
  return {
    publish: async (channel, message) =>
      void (await publisher.publish(prefix + channel, JSON.stringify(message))),
    subscribe: async (channel, handler) => {
      const count = counts.get(channel) ?? 0;
      if (count === 0) await subscribeWithRetry(subscriber, prefix + channel);
      counts.set(channel, count + 1);
      const unsubscribeLocal = await local.subscribe(channel, handler);
      return async () => {
        await unsubscribeLocal();
        const left = (counts.get(channel) ?? 1) - 1;
        counts.set(channel, left);
        if (left === 0) await subscriber.unsubscribe(prefix + channel);
      };
    },
    close: () => local.close(),
  };
}

/**
 * Subscribes for cache invalidation without making the caller depend on it:
 * when pub/sub is slow or down the failure is logged, and the caller's own
 * expiry bounds how stale it gets, instead of the rejection ending the process.
 */
export function subscribeOrWarn(
  events: Events,
  channel: string,
  handler: EventHandler,
  logger: Logger,
  consequence: string,
): Promise<() => Promise<void>> {
  return events.subscribe(channel, handler).catch((error: unknown) => {
    logger.warn({ err: String(error), channel }, `events unavailable: ${consequence}`);
    return async () => undefined;
  });
}
