import type { FastifyRequest } from 'fastify';
import { AppError } from '@datalab/platform';

function tooLarge(limit: number): AppError {
  return new AppError('too_large', `A job batch body may be at most ${limit} bytes (BODY_LIMIT_BYTES)`, {
    extensions: { limit },
  });
}

async function readBounded(request: FastifyRequest, limit: number): Promise<Buffer> {
  if (Number(request.headers['content-length'] ?? 0) > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request.raw) {
    size += (chunk as Buffer).length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * How many jobs a `POST /api/v1/compute/jobs/batch` holds, so each is charged to the rate budget.
 * The body is read here (at most `limit` bytes: the compute-service would refuse more anyway) and
 * kept as `request.body`, which the proxy sends on as it is. A body that is not a batch counts as
 * one call; the compute-service answers what is wrong with it.
 */
export async function readJobBatch(request: FastifyRequest, limit: number): Promise<number> {
  const body = await readBounded(request, limit);
  request.body = body;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return 1;
  }
  const jobs =
    typeof parsed === 'object' && parsed !== null ? (parsed as { jobs?: unknown }).jobs : undefined;
  return Array.isArray(jobs) ? Math.max(1, jobs.length) : 1;
}
