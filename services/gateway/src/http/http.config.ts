import { f } from '@datalab/platform';

export const httpConfigSchema = {
  corsOrigins: f.string(
    'CORS_ORIGINS',
    'Browser origins allowed to call the API from elsewhere, comma-separated. Empty: same origin only.',
    '',
  ),
  proxyBodyLimitBytes: f.integer(
    'PROXY_BODY_LIMIT_BYTES',
    'Largest request body the gateway passes to a service (uploads excepted).',
    16 * 1024 * 1024,
    1024,
  ),
  uploadBodyLimitBytes: f.integer(
    'UPLOAD_BODY_LIMIT_BYTES',
    'Largest upload (datasets, ONNX models) the gateway passes on, streamed.',
    1024 * 1024 * 1024,
    1024,
  ),
};
