import { hash } from 'node:crypto';
import type { Cache } from '@datalab/platform';
import { perFrozen } from '../memory/event-memory.ts';

/** Bumped when the renderer's output changes, so old entries and ETags are not reused. */
export const RENDERER_VERSION = 'datalab-viz-2';

/** Everything a render's bytes depend on. */
export interface RenderKeyParts {
  /** The spec as sent, with DataLab sources still unresolved. */
  spec: unknown;
  /** Per source: the dataset id and version read, or the hash of a SQL answer. */
  data: readonly (readonly [string, string | number])[];
  format: string;
  width: number | undefined;
  height: number | undefined;
  scale: number;
}

/** JSON with object keys sorted, so `{a, b}` and `{b, a}` are the same spec. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );
}

/** canonicalJson of a frozen spec (a saved chart remembered in memory) is worked out once. */
const canonicalObject = perFrozen((spec: object) => canonicalJson(spec));

function canonicalSpec(spec: unknown): string {
  return typeof spec === 'object' && spec !== null ? canonicalObject(spec) : canonicalJson(spec);
}

/** One-shot `crypto.hash`: a render's key is hashed on every call, and createHash costs more. */
export function sha256(text: string | Buffer): string {
  return hash('sha256', text);
}

/**
 * The cache key and the ETag are one hash of the spec, the versions of the
 * data read, the format and the size: a new dataset version gives a new
 * ETag, and a matching If-None-Match is answered without rendering anything.
 */
export function renderKey(parts: RenderKeyParts): string {
  // The same text as canonicalJson of the whole array, written member by member: the spec's part
  // is remembered for frozen specs, and the other members need no key sorting.
  const members = [
    JSON.stringify(RENDERER_VERSION),
    canonicalSpec(parts.spec),
    JSON.stringify(parts.data),
    JSON.stringify(parts.format),
    JSON.stringify(parts.width ?? null),
    JSON.stringify(parts.height ?? null),
    JSON.stringify(parts.scale),
  ];
  return sha256(`[${members.join(',')}]`);
}

export function etagOf(key: string): string {
  return `"${key.slice(0, 40)}"`;
}

/** RFC 9110: If-None-Match is a list of entity tags (weak ones compare weakly), or `*`. */
export function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

export interface RenderCache {
  get: (key: string) => Promise<Buffer | undefined>;
  set: (key: string, bytes: Buffer) => Promise<void>;
}

/**
 * Recently served renders kept in this process, in front of the shared cache: a hit then costs
 * neither a Redis round trip nor copying the bytes out of it. Keys name the content (renderKey),
 * so an entry is never stale; the least recently used go first once `maxBytes` is reached.
 */
function createLocalCache(maxBytes: number, ttlMs: number) {
  const entries = new Map<string, { bytes: Buffer; until: number }>();
  let total = 0;
  const drop = (key: string): void => {
    const entry = entries.get(key);
    if (!entry) return;
    total -= entry.bytes.length;
    entries.delete(key);
  };
  return {
    get(key: string): Buffer | undefined {
      const entry = entries.get(key);
      if (!entry) return undefined;
      drop(key);
      if (entry.until < performance.now()) return undefined;
      entries.set(key, entry);
      total += entry.bytes.length;
      return entry.bytes;
    },
    set(key: string, bytes: Buffer): void {
      if (bytes.length > maxBytes) return;
      drop(key);
      entries.set(key, { bytes, until: performance.now() + ttlMs });
      total += bytes.length;
      for (const oldest of entries.keys()) {
        if (total <= maxBytes) break;
        drop(oldest);
      }
    },
  };
}

/** `localBytes` > 0 keeps recent renders in this process too (for a shared cache out of process). */
export function createRenderCache(
  cache: Cache,
  ttlSeconds: number,
  maxEntryBytes: number,
  localBytes = 0,
): RenderCache {
  const at = (key: string): string => `viz:render:${key}`;
  const local =
    ttlSeconds > 0 && localBytes > 0 ? createLocalCache(localBytes, ttlSeconds * 1000) : undefined;
  return {
    get: async (key) => {
      if (ttlSeconds <= 0) return undefined;
      const near = local?.get(key);
      if (near) return near;
      const bytes = await cache.get(at(key));
      if (bytes) local?.set(key, bytes);
      return bytes;
    },
    set: async (key, bytes) => {
      if (ttlSeconds <= 0 || bytes.length > maxEntryBytes) return;
      local?.set(key, bytes);
      await cache.set(at(key), bytes, ttlSeconds);
    },
  };
}
