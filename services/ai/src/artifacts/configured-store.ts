import path from 'node:path';
import { ConfigError } from '@datalab/platform';
import type { AiConfig } from '../config.ts';
import { createDirectoryStore, type ArtifactStore } from './artifact-store.ts';
import { createS3Store } from './s3-store.ts';

/** Path segments ending in `/`, so keys stay plain and cannot climb out of the prefix. */
const PREFIX = /^([A-Za-z0-9_-]+\/)+$/;

function required(value: string | undefined, variable: string): string {
  if (!value) throw new ConfigError(variable, 'must be set when AI_ARTIFACT_STORE=s3');
  return value;
}

/** The artifact store the configuration names; the ai-service and its job workers must name the same one. */
export function createArtifactStore(config: AiConfig, dataDir: string): ArtifactStore {
  // Resolved once, here: a later change of working directory never moves where models are read.
  if (config.artifactStore === 'dir')
    return createDirectoryStore(path.resolve(dataDir, config.artifactDir ?? 'models'));
  if (!PREFIX.test(config.s3Prefix))
    throw new ConfigError(
      'AI_S3_PREFIX',
      'must be path segments of letters, digits, _ and -, each ending in /',
    );
  return createS3Store({
    endpoint: config.s3Endpoint,
    bucket: required(config.s3Bucket, 'AI_S3_BUCKET'),
    prefix: config.s3Prefix,
    region: config.s3Region,
    accessKeyId: required(config.s3AccessKeyId, 'AI_S3_ACCESS_KEY_ID'),
    secretAccessKey: required(config.s3SecretAccessKey, 'AI_S3_SECRET_ACCESS_KEY'),
    forcePathStyle: config.s3ForcePathStyle,
  });
}
