import {
  AppError,
  assertCanRead,
  createBoundedLru,
  stringBytes,
  type Principal,
  type Visibility,
} from '@datalab/platform';
import type { ModelsRepository, VersionRow } from '../models/models.repository.ts';

interface Resolved {
  owner_id: string;
  visibility: Visibility;
  version: VersionRow | undefined;
}

/**
 * Room for every hot model's version row (its input and output schemas are most of it); callers
 * choose the model ids they ask for, so the bound is in bytes, least recently used out first.
 */
const LOOKUP_CACHE_BYTES = 16 * 1024 * 1024;

/**
 * Which version a predict call runs, remembered for `ttlMs` so a busy model
 * costs no database round trip per request. The caller's right to read it is
 * still checked on every call, against an owner and visibility at most `ttlMs` old.
 */
export function createVersionLookup(repository: ModelsRepository, ttlMs: number) {
  const entries = createBoundedLru<{ modelId: string; resolved: Resolved | undefined }>({
    maxBytes: LOOKUP_CACHE_BYTES,
    sizeOf: (entry) => stringBytes(JSON.stringify(entry.resolved) ?? ''),
  });
  const resolve = async (
    principal: Principal,
    modelId: string,
    version: number | undefined,
  ): Promise<VersionRow> => {
    const key = `${modelId}:${version ?? ''}`;
    let entry = entries.get(key);
    if (!entry) {
      entry = { modelId, resolved: await repository.resolve(modelId, version) };
      if (ttlMs > 0) entries.set(key, entry, Date.now() + ttlMs);
    }
    const { resolved } = entry;
    assertCanRead(
      principal,
      resolved && { ownerId: resolved.owner_id, visibility: resolved.visibility },
      'model',
    );
    if (!resolved?.version)
      throw new AppError(
        'not_found',
        version === undefined ? 'The model has no versions' : `Version ${version} not found`,
      );
    return resolved.version;
  };
  return {
    resolve,
    /** Drops what is known of a model this instance just changed (other instances catch up within `ttlMs`). */
    forget: (modelId: string): void => {
      entries.deleteWhere((entry) => entry.modelId === modelId);
    },
  };
}

export type VersionLookup = ReturnType<typeof createVersionLookup>;
