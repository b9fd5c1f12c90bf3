import { createS3Client, type S3Location } from '@datalab/platform';
import { checkKey, checkModelId, describeNew, type ArtifactStore } from './artifact-store.ts';

export interface S3StoreOptions extends S3Location {
  /** Empty or `segment/…/`; keys are `<prefix><model id>/<random>.bin`. */
  prefix: string;
}

/** Artifacts as objects in an S3-compatible bucket; a PUT is atomic, so a reader never sees half an object. */
export function createS3Store(options: S3StoreOptions): ArtifactStore {
  const client = createS3Client({ ...options, name: 'The model artifact store' });
  const objectKey = (key: string) => `${options.prefix}${checkKey(key)}`;
  return {
    put: async (modelId, bytes) => {
      const stored = describeNew(modelId, bytes);
      await client.putBytes(objectKey(stored.key), bytes);
      return stored;
    },
    get: (key) => client.getBytes(objectKey(key)),
    remove: (key) => client.delete(objectKey(key)),
    removeModel: async (modelId) => {
      for await (const object of client.list(`${options.prefix}${checkModelId(modelId)}/`))
        await client.delete(object.key);
    },
  };
}
