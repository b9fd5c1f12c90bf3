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

/** The largest body a route takes, and the setting that says so. */
export interface BodyLimit {
  bytes: number;
  setting: 'UPLOAD_BODY_LIMIT_BYTES' | 'PROXY_BODY_LIMIT_BYTES';
}

export function bodyLimitFor(method: string, path: string, limits: BodyLimits): BodyLimit {
  const line = `${method} ${path}`;
  return UPLOAD_ROUTES.some((route) => route.test(line))
    ? { bytes: limits.uploadBodyLimitBytes, setting: 'UPLOAD_BODY_LIMIT_BYTES' }
    : { bytes: limits.proxyBodyLimitBytes, setting: 'PROXY_BODY_LIMIT_BYTES' };
}

export function tooLarge(limit: BodyLimit): AppError {
  return new AppError(
    'too_large',
    `The request body is larger than ${limit.bytes} bytes (${limit.setting})`,
    {
      extensions: { limit: limit.setting, limit_bytes: limit.bytes },
    },
  );
}

/**
 * The body as a stream that fails once more than `limit` bytes went through:
 * a chunked upload has no Content-Length to check up front.
 */
export function limitBody(body: Readable, limit: BodyLimit): Readable {
  let seen = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > limit.bytes) callback(tooLarge(limit));
      else callback(null, chunk);
    },
  });
  body.on('error', (error) => counter.destroy(error));
  return body.pipe(counter);
}
