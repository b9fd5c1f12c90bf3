import { setTimeout as sleep } from 'node:timers/promises';
import { Type } from 'typebox';
import { defineJobType } from '@datalab/platform';

const STEPS = 10;

/**
 * Does nothing for `duration_ms`, reporting progress in ten steps. It measures
 * the engine itself (the bench's no-op job) and exercises it in tests:
 * `fail_attempts: n` makes the first n attempts fail, as a flaky job would.
 */
export const noopJob = defineJobType({
  type: 'noop',
  queue: 'default',
  params: Type.Object(
    {
      duration_ms: Type.Optional(
        Type.Integer({ minimum: 0, maximum: 600_000, description: 'How long to wait (default 0).' }),
      ),
      fail_attempts: Type.Optional(
        Type.Integer({
          minimum: 0,
          maximum: 100,
          description: 'The first this-many attempts fail (default 0): to try retries and dead jobs.',
        }),
      ),
    },
    { additionalProperties: false },
  ),
  timeoutMs: 15 * 60_000,
  maxAttempts: 3,
  handler: async ({ params, attempt, signal, progress }) => {
    const duration = params.duration_ms ?? 0;
    if (attempt <= (params.fail_attempts ?? 0))
      throw new Error(`noop: attempt ${attempt} fails as asked (fail_attempts ${params.fail_attempts})`);
    if (duration > 0) {
      for (let step = 1; step <= STEPS; step++) {
        await sleep(duration / STEPS, undefined, { signal });
        await progress((step * 100) / STEPS, `slept ${Math.round((duration * step) / STEPS)} ms`);
      }
    }
    return { slept_ms: duration };
  },
});
