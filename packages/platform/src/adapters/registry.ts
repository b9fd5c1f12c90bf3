import type { Redis } from 'ioredis';

export interface RegisteredInstance {
  service: string;
  instanceId: string;
  url: string;
  /** Epoch milliseconds of the last heartbeat. */
  lastSeen: number;
}

/**
 * Where service instances announce themselves (heartbeats) and the gateway
 * finds them. An instance not seen for `ttlMs` is gone.
 */
export interface ServiceRegistry {
  /** Registers or refreshes an instance (a heartbeat is just another call). */
  announce: (instance: Omit<RegisteredInstance, 'lastSeen'>) => Promise<void>;
  withdraw: (service: string, instanceId: string) => Promise<void>;
  list: (service: string) => Promise<RegisteredInstance[]>;
}

export function createMemoryRegistry(ttlMs: number): ServiceRegistry {
  const services = new Map<string, Map<string, RegisteredInstance>>();
  const instancesOf = (service: string): Map<string, RegisteredInstance> => {
    let instances = services.get(service);
    if (!instances) {
      instances = new Map();
      services.set(service, instances);
    }
    return instances;
  };
  return {
    announce: async (instance) =>
      void instancesOf(instance.service).set(instance.instanceId, { ...instance, lastSeen: Date.now() }),
    withdraw: async (service, instanceId) => void instancesOf(service).delete(instanceId),
    list: async (service) => {
      const alive = Date.now() - ttlMs;
      const instances = instancesOf(service);
      for (const [id, instance] of instances) if (instance.lastSeen < alive) instances.delete(id);
      return [...instances.values()];
    },
  };
}

/** One hash per service: field = instance id, value = JSON. Stale fields are pruned on read. */
export function createRedisRegistry(redis: Redis, prefix: string, ttlMs: number): ServiceRegistry {
  const key = (service: string): string => `${prefix}${service}`;
  return {
    announce: async (instance) => {
      await redis.hset(
        key(instance.service),
        instance.instanceId,
        JSON.stringify({ ...instance, lastSeen: Date.now() }),
      );
    },
    withdraw: async (service, instanceId) => void (await redis.hdel(key(service), instanceId)),
    list: async (service) => {
      const alive = Date.now() - ttlMs;
      const fields = await redis.hgetall(key(service));
      const instances: RegisteredInstance[] = [];
      const stale: string[] = [];
      for (const [id, raw] of Object.entries(fields)) {
        const instance = JSON.parse(raw) as RegisteredInstance;
        if (instance.lastSeen < alive) stale.push(id);
        else instances.push(instance);
      }
      if (stale.length > 0) await redis.hdel(key(service), ...stale);
      return instances;
    },
  };
}
