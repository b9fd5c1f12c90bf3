import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AwsV4Signer } from 'aws4fetch';
import { request } from 'undici';
import { AppError } from '../errors/errors.ts';
import { readXmlTag, readXmlTags, s3BucketUrl, s3ObjectPath, type S3Location } from './s3-wire.ts';

export type { S3Location } from './s3-wire.ts';

export interface S3ClientOptions extends S3Location {
  /** What the bucket holds, for the caller's errors: "The model artifact store is unavailable". */
  name: string;
  /** Files larger than this go up in parts of at least this size (S3 wants 5 MiB or more). */
  partBytes?: number;
  /** Keys asked for per listing page; S3 answers at most 1000, its default. */
  listPageKeys?: number;
}

export interface S3Object {
  key: string;
  size: number;
  modifiedAt: Date;
}

export interface S3Client {
  /** Stores `bytes` under `key` in one request. */
  putBytes(key: string, bytes: Uint8Array): Promise<void>;
  /** Streams a local file to `key`, in parts when it is large: the file is never held in memory. */
  putFile(key: string, file: string): Promise<void>;
  getBytes(key: string): Promise<Buffer>;
  /** Streams `key` into `file` (written under a temporary name, then renamed); returns its size. */
  download(key: string, file: string): Promise<number>;
  /** The object's size and age, or undefined when there is none. */
  head(key: string): Promise<S3Object | undefined>;
  /** S3 answers the same whether or not the object existed. */
  delete(key: string): Promise<void>;
  /** Every object whose key starts with `prefix`, page by page (ListObjectsV2). */
  list(prefix: string): AsyncIterable<S3Object>;
}

/** 5xx and 429 answers are tried again with jittered backoff; three tries ride out a restarting server. */
const RETRIES = 3;
const RETRY_BASE_MS = 50;
const DEFAULT_PART_BYTES = 64 * 1024 * 1024;
/** S3 takes at most this many parts in one upload. */
const MAX_PARTS = 10_000;
const EMPTY_SHA256 = createHash('sha256').digest('hex');

type Body = () => Uint8Array | Readable | undefined;

interface Call {
  method: string;
  /** Path and query after the bucket: an encoded key, `?list-type=2…`. */
  target: string;
  headers?: Record<string, string>;
  /** A fresh body for each try; the SHA-256 of what it gives is signed, so the server refuses damaged bytes. */
  body?: Body;
  sha256?: string;
  /** Answers that are not failures for this call (404 of a HEAD). */
  accept?: number[];
}

async function sha256OfFile(file: string, start = 0, end = Infinity): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file, { start, end }), hash);
  return hash.digest('hex');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * An S3-compatible bucket over HTTP, signed with SigV4 (aws4fetch's signer,
 * undici's streams). A PUT is atomic, so a reader never sees half an object;
 * every body's SHA-256 is signed, so the server refuses bytes damaged on the
 * way. Failures to reach the server, and its 5xx answers, are AppErrors
 * 'unavailable' naming `options.name`; other refusals are plain errors.
 */
export function createS3Client(options: S3ClientOptions): S3Client {
  const bucket = s3BucketUrl(options);
  const partBytes = options.partBytes ?? DEFAULT_PART_BYTES;

  async function sendOnce(call: Call) {
    const url = `${bucket}${call.target}`;
    const signer = new AwsV4Signer({
      method: call.method,
      url,
      headers: { ...call.headers, 'x-amz-content-sha256': call.sha256 ?? EMPTY_SHA256 },
      accessKeyId: options.accessKeyId,
      secretAccessKey: options.secretAccessKey,
      service: 's3',
      region: options.region,
    });
    const signed = await signer.sign();
    try {
      return await request(url, {
        method: call.method as 'GET',
        headers: Object.fromEntries(signed.headers),
        body: call.body?.(),
      });
    } catch (error) {
      throw new AppError('unavailable', `${options.name} cannot be reached`, { cause: error });
    }
  }

  async function send(call: Call) {
    for (let attempt = 1; ; attempt++) {
      const response = await sendOnce(call);
      const status = response.statusCode;
      if ((status >= 200 && status < 300) || call.accept?.includes(status)) return response;
      const body = await response.body.text();
      const what = `S3 ${call.method} ${new URL(`${bucket}${call.target}`).pathname}: ${status} ${readXmlTag(body, 'Code') ?? ''} ${readXmlTag(body, 'Message') ?? ''}`;
      const passing = status >= 500 || status === 429;
      if (!passing) throw new Error(what);
      if (attempt >= RETRIES)
        throw new AppError('unavailable', `${options.name} is unavailable`, { cause: new Error(what) });
      await sleep(Math.random() * RETRY_BASE_MS * 2 ** attempt);
    }
  }

  async function putBytes(key: string, bytes: Uint8Array): Promise<void> {
    const response = await send({
      method: 'PUT',
      target: s3ObjectPath(key),
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.byteLength) },
      body: () => bytes,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    await response.body.dump();
  }

  /** PUTs `file` (or `length` bytes of it from `start`) and returns the answer's ETag. */
  async function putRange(target: string, file: string, start: number, length: number): Promise<string> {
    const end = start + length - 1;
    const response = await send({
      method: 'PUT',
      target,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(length) },
      body: () => (length === 0 ? new Uint8Array() : createReadStream(file, { start, end })),
      sha256: length === 0 ? EMPTY_SHA256 : await sha256OfFile(file, start, end),
    });
    await response.body.dump();
    return String(response.headers.etag ?? '');
  }

  async function putInParts(key: string, file: string, size: number): Promise<void> {
    const target = s3ObjectPath(key);
    const started = await send({ method: 'POST', target: `${target}?uploads` });
    const uploadId = readXmlTag(await started.body.text(), 'UploadId');
    if (!uploadId) throw new Error(`S3 did not start a multipart upload of ${key}`);
    const upload = `uploadId=${encodeURIComponent(uploadId)}`;
    const part = Math.max(partBytes, Math.ceil(size / MAX_PARTS));
    try {
      const etags: string[] = [];
      for (let start = 0; start < size; start += part) {
        const number = etags.length + 1;
        etags.push(
          await putRange(
            `${target}?partNumber=${number}&${upload}`,
            file,
            start,
            Math.min(part, size - start),
          ),
        );
      }
      const parts = etags
        .map((etag, index) => `<Part><PartNumber>${index + 1}</PartNumber><ETag>${etag}</ETag></Part>`)
        .join('');
      const xml = Buffer.from(`<CompleteMultipartUpload>${parts}</CompleteMultipartUpload>`);
      const completed = await send({
        method: 'POST',
        target: `${target}?${upload}`,
        headers: { 'content-type': 'application/xml', 'content-length': String(xml.byteLength) },
        body: () => xml,
        sha256: createHash('sha256').update(xml).digest('hex'),
      });
      // S3 can answer 200 and still report a failure in the body.
      const answer = await completed.body.text();
      if (readXmlTag(answer, 'Code')) throw new Error(`S3 did not complete ${key}: ${answer}`);
    } catch (error) {
      // Parts of an upload never completed are kept (and billed) until aborted.
      await send({ method: 'DELETE', target: `${target}?${upload}` }).then(
        (response) => response.body.dump(),
        () => undefined,
      );
      throw error;
    }
  }

  async function* list(prefix: string): AsyncIterable<S3Object> {
    let token: string | undefined;
    do {
      const query = new URLSearchParams({ 'list-type': '2', prefix });
      if (options.listPageKeys) query.set('max-keys', String(options.listPageKeys));
      if (token) query.set('continuation-token', token);
      const xml = await (await send({ method: 'GET', target: `?${query.toString()}` })).body.text();
      for (const entry of readXmlTags(xml, 'Contents'))
        yield {
          key: readXmlTag(entry, 'Key')!,
          size: Number(readXmlTag(entry, 'Size')),
          modifiedAt: new Date(readXmlTag(entry, 'LastModified')!),
        };
      token =
        readXmlTag(xml, 'IsTruncated') === 'true' ? readXmlTag(xml, 'NextContinuationToken') : undefined;
    } while (token);
  }

  return {
    putBytes,
    putFile: async (key, file) => {
      const { size } = await stat(file);
      if (size > partBytes) await putInParts(key, file, size);
      else await putRange(s3ObjectPath(key), file, 0, size);
    },
    getBytes: async (key) => {
      const response = await send({ method: 'GET', target: s3ObjectPath(key) });
      return Buffer.from(await response.body.arrayBuffer());
    },
    download: async (key, file) => {
      const response = await send({ method: 'GET', target: s3ObjectPath(key) });
      const temporary = `${file}.${randomBytes(4).toString('hex')}.download`;
      try {
        await pipeline(response.body, createWriteStream(temporary));
        const { size } = await stat(temporary);
        await rename(temporary, file);
        return size;
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
    },
    head: async (key) => {
      const response = await send({ method: 'HEAD', target: s3ObjectPath(key), accept: [404] });
      await response.body.dump();
      if (response.statusCode === 404) return undefined;
      const modified = response.headers['last-modified'];
      return {
        key,
        size: Number(response.headers['content-length']),
        modifiedAt: new Date(typeof modified === 'string' ? modified : 0),
      };
    },
    delete: async (key) => {
      await (await send({ method: 'DELETE', target: s3ObjectPath(key) })).body.dump();
    },
    list,
  };
}
