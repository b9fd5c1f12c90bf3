import type { ServiceName, UpstreamInstance, UpstreamService } from '@datalab/contracts';
import type { Logger, ServiceRegistry } from '@datalab/platform';
import { request, type Dispatcher } from 'undici';

export interface UpstreamDefinition {
  name: ServiceName;
  /** Public path prefix, e.g. `/api/v1/data`. */
  prefix: string;
  staticUrls: readonly string[];
}

interface InstanceState {
  url: string;
  source: 'static' | 'registered';
  instanceId?: string;
  state: 'healthy' | 'unhealthy' | 'unknown';
  lastCheckedAt?: Date;
  lastError?: string;
}

export interface Upstreams {
  definitions: readonly UpstreamDefinition[];
  /**
   * The next healthy instance, round-robin; any instance when none is healthy; never one in `skip`
   * (those this request already found unreachable); `undefined` when none is left.
   */
  pick: (name: ServiceName, skip?: ReadonlySet<string>) => string | undefined;
  /** Passive ejection: a request that could not reach `url` takes it out until the next good check. */
  markDown: (name: ServiceName, url: string, reason: string) => void;
  list: () => UpstreamService[];
  /** Re-reads the registry and checks every instance once. */
  refresh: () => Promise<void>;
  start: () => void;
  stop: () => void;
}

export interface UpstreamsOptions {
  definitions: readonly UpstreamDefinition[];
  registry: ServiceRegistry;
  intervalMs: number;
  checkTimeoutMs: number;
  dispatcher: Dispatcher;
  logger: Logger;
}

async function probe(url: string, options: UpstreamsOptions): Promise<string | undefined> {
  try {
    const response = await request(new URL('/health/ready', url), {
      dispatcher: options.dispatcher,
      signal: AbortSignal.timeout(options.checkTimeoutMs),
    });
    await response.body.dump();
    return response.statusCode === 200 ? undefined : `readiness answered ${response.statusCode}`;
  } catch (error) {
    return (error as { code?: string }).code ?? (error as Error).name;
  }
}

export function createUpstreams(options: UpstreamsOptions): Upstreams {
  const instances = new Map<ServiceName, InstanceState[]>(
    options.definitions.map((d) => [
      d.name,
      d.staticUrls.map((url) => ({ url, source: 'static', state: 'unknown' })),
    ]),
  );
  const cursor = new Map<ServiceName, number>();
  let timer: NodeJS.Timeout | undefined;
  let running = false;

  const discover = async (definition: UpstreamDefinition): Promise<InstanceState[]> => {
    const previous = new Map((instances.get(definition.name) ?? []).map((i) => [i.url, i]));
    const merged: InstanceState[] = definition.staticUrls.map(
      (url) => previous.get(url) ?? { url, source: 'static', state: 'unknown' },
    );
    try {
      for (const registered of await options.registry.list(definition.name)) {
        if (merged.some((i) => i.url === registered.url)) continue;
        merged.push(
          previous.get(registered.url) ?? {
            url: registered.url,
            source: 'registered',
            instanceId: registered.instanceId,
            state: 'unknown',
          },
        );
      }
    } catch (error) {
      options.logger.warn(
        { err: error, upstream: definition.name },
        'registry unreachable; keeping known instances',
      );
      merged.push(...[...previous.values()].filter((i) => i.source === 'registered'));
    }
    return merged;
  };

  const check = async (name: ServiceName, instance: InstanceState): Promise<void> => {
    const failure = await probe(instance.url, options);
    const next = failure === undefined ? 'healthy' : 'unhealthy';
    if (next !== instance.state && instance.state !== 'unknown') {
      options.logger.info(
        { upstream: name, url: instance.url, state: next, reason: failure },
        'upstream state changed',
      );
    }
    instance.state = next;
    instance.lastCheckedAt = new Date();
    if (failure === undefined) delete instance.lastError;
    else instance.lastError = failure;
  };

  const refresh = async (): Promise<void> => {
    await Promise.all(
      options.definitions.map(async (definition) => {
        const found = await discover(definition);
        await Promise.all(found.map((instance) => check(definition.name, instance)));
        instances.set(definition.name, found);
      }),
    );
  };

  return {
    definitions: options.definitions,
    pick: (name, skip) => {
      const all = (instances.get(name) ?? []).filter((i) => !skip?.has(i.url));
      const healthy = all.filter((i) => i.state === 'healthy');
      const unknown = all.filter((i) => i.state === 'unknown');
      // With none passing its check, all are tried (Envoy's "panic routing"): a probe that timed
      // out on a busy instance must not refuse every call, and a dead one refuses the connection
      // at once, so the proxy moves on to the next and answers 503 when none is left.
      const candidates = healthy.length > 0 ? healthy : unknown.length > 0 ? unknown : all;
      if (candidates.length === 0) return undefined;
      const next = (cursor.get(name) ?? 0) % candidates.length;
      cursor.set(name, next + 1);
      return candidates[next]?.url;
    },
    markDown: (name, url, reason) => {
      const instance = instances.get(name)?.find((i) => i.url === url);
      if (!instance || instance.state === 'unhealthy') return;
      instance.state = 'unhealthy';
      instance.lastError = reason;
      options.logger.warn({ upstream: name, url, reason }, 'upstream taken out after a failed request');
    },
    list: () =>
      options.definitions.map((definition) => {
        const all = instances.get(definition.name) ?? [];
        return {
          name: definition.name,
          prefix: definition.prefix,
          healthy: all.some((i) => i.state === 'healthy'),
          instances: all.map((i): UpstreamInstance => ({
            url: i.url,
            source: i.source,
            state: i.state,
            ...(i.instanceId ? { instance_id: i.instanceId } : {}),
            ...(i.lastCheckedAt ? { last_checked_at: i.lastCheckedAt.toISOString() } : {}),
            ...(i.lastError ? { last_error: i.lastError } : {}),
          })),
        };
      }),
    refresh,
    start: () => {
      running = true;
      const loop = (): void => {
        if (!running) return;
        timer = setTimeout(() => {
          refresh().then(loop, (error: unknown) => {
            options.logger.error({ err: error }, 'upstream refresh failed');
            loop();
          });
        }, options.intervalMs);
        timer.unref();
      };
      loop();
    },
    stop: () => {
      running = false;
      clearTimeout(timer);
    },
  };
}
