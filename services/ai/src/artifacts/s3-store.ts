import { AwsClient } from 'aws4fetch';
import { AppError } from '@datalab/platform';
import { checkKey, checkModelId, describeNew, type ArtifactStore } from './artifact-store.ts';

export interface S3StoreOptions {
  /** Unset: AWS S3 in `region`. */
  endpoint: string | undefined;
  bucket: string;
  /** Empty or `segment/…/`; keys are `<prefix><model id>/<random>.bin`. */
  prefix: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `<endpoint>/<bucket>/key` rather than `<bucket>.<endpoint>/key`. */
  forcePathStyle: boolean;
}

/** aws4fetch retries 5xx and 429 answers with jittered backoff; three tries ride out a restarting server without stalling a job. */
const RETRIES = 3;
const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function bucketUrl(options: S3StoreOptions): string {
  const endpoint = new URL(options.endpoint ?? `https://s3.${options.region}.amazonaws.com`);
  const base = endpoint.pathname.replace(/\/+$/, '');
  return options.forcePathStyle
    ? `${endpoint.origin}${base}/${encodeURIComponent(options.bucket)}/`
    : `${endpoint.protocol}//${options.bucket}.${endpoint.host}${base}/`;
}

function unescapeXml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) => XML_ENTITIES[name]!);
}

function tag(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return match ? unescapeXml(match[1]!) : undefined;
}

/**
 * Artifacts as objects in an S3-compatible bucket, signed with SigV4 (aws4fetch).
 * A PUT is atomic, so a reader never sees half an object; the body's SHA-256
 * is signed, so the server refuses bytes damaged on the way.
 */
export function createS3Store(options: S3StoreOptions): ArtifactStore {
  const client = new AwsClient({
    accessKeyId: options.accessKeyId,
    secretAccessKey: options.secretAccessKey,
    service: 's3',
    region: options.region,
    retries: RETRIES,
  });
  const bucket = bucketUrl(options);
  const objectUrl = (key: string) => `${bucket}${options.prefix}${checkKey(key)}`;

  async function call(method: string, url: string, init: RequestInit = {}): Promise<Response> {
    let response: Response;
    try {
      response = await client.fetch(url, { method, ...init });
    } catch (error) {
      throw new AppError('unavailable', 'The model artifact store cannot be reached', {
        cause: error,
      });
    }
    if (response.ok) return response;
    const body = await response.text();
    const what = `S3 ${method} ${new URL(url).pathname}: ${response.status} ${tag(body, 'Code') ?? ''} ${tag(body, 'Message') ?? ''}`;
    if (response.status >= 500 || response.status === 429)
      throw new AppError('unavailable', 'The model artifact store is unavailable', {
        cause: new Error(what),
      });
    throw new Error(what);
  }

  /** One page of a model's keys (ListObjectsV2) and the token of the next page, if any. */
  async function listPage(prefix: string, token: string | undefined) {
    const url = new URL(bucket);
    url.searchParams.set('list-type', '2');
    url.searchParams.set('prefix', prefix);
    if (token) url.searchParams.set('continuation-token', token);
    const xml = await (await call('GET', url.toString())).text();
    const keys = [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((match) => unescapeXml(match[1]!));
    const truncated = tag(xml, 'IsTruncated') === 'true';
    return { keys, next: truncated ? tag(xml, 'NextContinuationToken') : undefined };
  }

  return {
    put: async (modelId, bytes) => {
      const stored = describeNew(modelId, bytes);
      await call('PUT', objectUrl(stored.key), {
        body: bytes,
        headers: { 'content-type': 'application/octet-stream', 'x-amz-content-sha256': stored.sha256 },
      });
      return stored;
    },
    get: async (key) => Buffer.from(await (await call('GET', objectUrl(key))).arrayBuffer()),
    remove: async (key) => {
      // S3 answers 204 whether or not the object existed.
      await call('DELETE', objectUrl(key));
    },
    removeModel: async (modelId) => {
      const prefix = `${options.prefix}${checkModelId(modelId)}/`;
      let token: string | undefined;
      do {
        const page = await listPage(prefix, token);
        for (const key of page.keys)
          await call('DELETE', `${bucket}${key.split('/').map(encodeURIComponent).join('/')}`);
        token = page.next;
      } while (token);
    },
  };
}
