import { f, type ConfigOf } from '@datalab/platform';

/** The gateway's rate limits; spread into the gateway's configuration schema. */
export const rateLimitConfigSchema = {
  rateLimitWindowMs: f.integer(
    'RATE_LIMIT_WINDOW_MS',
    'Length of the fixed window every rate-limit budget is counted over.',
    60000,
    1000,
  ),
  rateLimitDefault: f.integer(
    'RATE_LIMIT_DEFAULT',
    'Calls per window for each signed-in user on ordinary routes (all their API keys and sessions together).',
    1200,
    1,
  ),
  rateLimitAnonymous: f.integer(
    'RATE_LIMIT_ANONYMOUS',
    'Calls per window for each IP address calling without credentials.',
    120,
    1,
  ),
  rateLimitLogin: f.integer(
    'RATE_LIMIT_LOGIN',
    'Sign-in, token-refresh and password-change attempts per window for each IP address.',
    20,
    1,
  ),
  rateLimitExpensive: f.integer(
    'RATE_LIMIT_EXPENSIVE',
    'Calls per window for each caller on expensive routes: uploads, jobs (each job of a batch counts), renders, training, predictions.',
    60,
    1,
  ),
  rateLimitFailOpen: f.boolean(
    'RATE_LIMIT_FAIL_OPEN',
    'When the rate-limit store (Redis) fails: true lets requests through unlimited, false refuses them with 503. Sign-ins, refreshes and password changes are refused with 503 either way.',
    true,
  ),
};

export type RateLimitConfig = ConfigOf<typeof rateLimitConfigSchema>;
