import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Where model artifacts live. Keys are made by the store, never by callers, so they cannot escape it. */
export interface ArtifactStore {
  /** Stores the bytes under a new key; returns the key, size and SHA-256. */
  put: (modelId: string, bytes: Uint8Array) => Promise<StoredArtifact>;
  get: (key: string) => Promise<Buffer>;
  /** Removes one artifact (a version whose row was never written). */
  remove: (key: string) => Promise<void>;
  /** Removes every artifact of a model (after its rows are gone). */
  removeModel: (modelId: string) => Promise<void>;
}

export interface StoredArtifact {
  key: string;
  bytes: number;
  sha256: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KEY = /^[0-9a-f-]{36}\/[0-9a-f]{16}\.bin$/;

export function checkModelId(modelId: string): string {
  if (!UUID.test(modelId)) throw new Error(`not a model id: ${modelId}`);
  return modelId;
}

export function checkKey(key: string): string {
  if (!KEY.test(key)) throw new Error(`not an artifact key: ${key}`);
  return key;
}

/** A fresh key for an artifact of `modelId`, and what a version records about the bytes. */
export function describeNew(modelId: string, bytes: Uint8Array): StoredArtifact {
  return {
    key: `${checkModelId(modelId)}/${randomBytes(8).toString('hex')}.bin`,
    bytes: bytes.byteLength,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

/**
 * Artifacts as files under one directory (`<model id>/<random>.bin`).
 * Written to a temporary name and renamed, so a reader never sees half a file.
 */
export function createDirectoryStore(root: string): ArtifactStore {
  const resolve = (key: string): string => path.join(root, checkKey(key));
  return {
    put: async (modelId, bytes) => {
      const stored = describeNew(modelId, bytes);
      const file = resolve(stored.key);
      await mkdir(path.dirname(file), { recursive: true });
      const temporary = `${file}.${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(temporary, bytes);
      await rename(temporary, file);
      return stored;
    },
    get: (key) => readFile(resolve(key)),
    remove: (key) => rm(resolve(key), { force: true }),
    removeModel: async (modelId) => {
      await rm(path.join(root, checkModelId(modelId)), { recursive: true, force: true });
    },
  };
}
