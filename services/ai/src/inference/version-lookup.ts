import { AppError, assertCanRead, type Principal, type Visibility } from '@datalab/platform';
import type { ModelsRepository, VersionRow } from '../models/models.repository.ts';

interface Resolved {
  owner_id: string;
  visibility: Visibility;
  version: VersionRow | undefined;
}

/** Enough entries for every hot model; past it the map starts again rather than grow. */
const MAX_ENTRIES = 10_000;

/**
 * Which version a predict call runs, remembered for `ttlMs` so a busy model
 * costs no database round trip per request. The caller's right to read it is
 * still checked on every call, against an owner and visibility at most `ttlMs` old.
 */
export function createVersionLookup(repository: ModelsRepository, ttlMs: number) {
  const entries = new Map<string, { at: number; resolved: Resolved | undefined }>();
  const resolve = async (
    principal: Principal,
    modelId: string,
    version: number | undefined,
  ): Promise<VersionRow> => {
    const key = `${modelId}:${version ?? ''}`;
    const now = Date.now();
    let entry = entries.get(key);
    if (!entry || now - entry.at > ttlMs) {
      if (entries.size >= MAX_ENTRIES) entries.clear();
      entry = { at: now, resolved: await repository.resolve(modelId, version) };
      if (ttlMs > 0) entries.set(key, entry);
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
      for (const key of entries.keys()) if (key.startsWith(`${modelId}:`)) entries.delete(key);
    },
  };
}

export type VersionLookup = ReturnType<typeof createVersionLookup>;
