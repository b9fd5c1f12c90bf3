import { Transform, type Readable } from 'node:stream';
import { AppError } from '@datalab/platform';

/** Uploads: where datasets and ONNX models arrive, streamed. */
const UPLOAD_ROUTES = [
  /^POST \/api\/v1\/data\/datasets$/,
  /^POST \/api\/v1\/data\/datasets\/[^/]+\/versions$/,
  /^POST \/api\/v1\/ai\/models\/onnx$/,
];

export interface BodyLimits {
  proxyBodyLimitBytes: number;
  uploadBodyLimitBytes: number;
}

export function bodyLimitFor(method: string, path: string, limits: BodyLimits): number {
  const line = `${method} ${path}`;
  return UPLOAD_ROUTES.some((route) => route.test(line))
    ? limits.uploadBodyLimitBytes
    : limits.proxyBodyLimitBytes;
}

export function tooLarge(limit: number): AppError {
  return new AppError('too_large', `The request body is larger than ${limit} bytes`);
}

/**
 * The body as a stream that fails once more than `limit` bytes went through:
 * a chunked upload has no Content-Length to check up front.
 */
export function limitBody(body: Readable, limit: number): Readable {
  let seen = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > limit) callback(tooLarge(limit));
      else callback(null, chunk);
    },
  });
  body.on('error', (error) => counter.destroy(error));
  return body.pipe(counter);
}
