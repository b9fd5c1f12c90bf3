import { createHash } from 'node:crypto';
import type { Cache, Principal } from '@datalab/platform';
import type { Dataset } from '../datasets/datasets.types.ts';
import type { QueryMetrics } from './query.metrics.ts';
import type { QueryFormat } from './query.schemas.ts';

/** What a cached answer needs besides its bytes. */
export interface CachedMeta {
  contentType: string;
  truncated: boolean;
}

export interface CachedAnswer extends CachedMeta {
  body: Buffer;
}

export interface CacheKeyParts {
  kind: 'sql' | 'structured';
  /** The query in a form where equal queries are equal text (location-free parse tree, canonical JSON). */
  normalized: string;
  datasets: readonly Pick<Dataset, 'id' | 'version' | 'visibility'>[];
  principal: Principal;
  format: QueryFormat;
  maxRows: number;
}

/**
 * The key holds every dataset's id and version, so a new version makes old
 * entries unreachable (they expire by TTL). It holds the caller's user id
 * unless every dataset read is shared: an answer over a private dataset is
 * never served to anyone else, while answers over shared data are shared.
 * Who may read a dataset is checked before the cache is consulted.
 */
export function cacheKey(parts: CacheKeyParts): string {
  const datasets = [...parts.datasets].sort((a, b) => a.id.localeCompare(b.id)).map((d) => [d.id, d.version]);
  const scope = parts.datasets.every((d) => d.visibility === 'shared')
    ? 'shared'
    : `user:${parts.principal.userId}`;
  const material = JSON.stringify([
    parts.kind,
    parts.normalized,
    datasets,
    scope,
    parts.format,
    parts.maxRows,
  ]);
  return `query:${createHash('sha256').update(material).digest('hex')}`;
}

/** JSON with object keys sorted, so `{a, b}` and `{b, a}` are the same query. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b)))
      : item,
  );
}

/** Entries are [4-byte meta length][meta JSON][answer bytes]. */
function pack(answer: CachedAnswer): Buffer {
  const meta = Buffer.from(JSON.stringify({ contentType: answer.contentType, truncated: answer.truncated }));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(meta.length);
  return Buffer.concat([length, meta, answer.body]);
}

function unpack(entry: Buffer): CachedAnswer | undefined {
  if (entry.length < 4) return undefined;
  const length = entry.readUInt32BE(0);
  try {
    const meta = JSON.parse(entry.subarray(4, 4 + length).toString('utf8')) as CachedMeta;
    return { ...meta, body: entry.subarray(4 + length) };
  } catch {
    return undefined;
  }
}

export interface QueryCache {
  get: (key: string) => Promise<CachedAnswer | undefined>;
  set: (key: string, answer: CachedAnswer) => Promise<void>;
  /** Largest answer worth keeping, in bytes; 0 when the cache is off. */
  maxEntryBytes: number;
}

export function createQueryCache(
  cache: Cache,
  options: { ttlSeconds: number; maxEntryBytes: number },
  metrics: QueryMetrics,
): QueryCache {
  const enabled = options.ttlSeconds > 0 && options.maxEntryBytes > 0;
  return {
    maxEntryBytes: enabled ? options.maxEntryBytes : 0,
    get: async (key) => {
      if (!enabled) return undefined;
      const entry = await cache.get(key);
      const answer = entry && unpack(entry);
      metrics.cacheLookup(answer !== undefined);
      return answer;
    },
    set: async (key, answer) => {
      if (enabled && answer.body.length <= options.maxEntryBytes)
        await cache.set(key, pack(answer), options.ttlSeconds);
    },
  };
}
