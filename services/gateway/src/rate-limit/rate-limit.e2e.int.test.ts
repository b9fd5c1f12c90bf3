import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call, newPem, startTestGateway, type TestGateway } from '../../../../test/gateway.ts';
import { uniqueName } from '../../../../test/helpers.ts';

describe.skipIf(!inject('redisUrl'))('rate limits across two real gateway instances on one Redis', () => {
  let first: TestGateway;
  let second: TestGateway;
  let token: string;

  beforeAll(async () => {
    // Two instances of one deployment: same signing key, same Redis namespace.
    const shared = {
      AUTH_SIGNING_KEY: newPem(),
      REDIS_PREFIX: `${uniqueName('rl')}:`,
      RATE_LIMIT_DEFAULT: '3',
    };
    first = await startTestGateway(shared);
    second = await startTestGateway(shared);
    token = await first.login(await first.createUser('editor'));
  });
  afterAll(async () => {
    await first.close();
    await second.close();
  });

  it('share one count: the 4th call in the window is refused whichever instance gets it', async () => {
    const statuses = [];
    for (const gateway of [first, second, first])
      statuses.push((await call(`${gateway.url}/api/v1/auth/me`, { token })).status);
    const fourth = await call(`${second.url}/api/v1/auth/me`, { token });

    expect(statuses).toEqual([200, 200, 200]);
    expect(fourth.status).toBe(429);
    expect(Number(fourth.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(fourth.headers.get('ratelimit-remaining')).toBe('0');
    expect(fourth.headers.get('content-type')).toContain('application/problem+json');
  });
});
