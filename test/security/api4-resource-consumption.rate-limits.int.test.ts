import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../processes.ts';
import { bearer, expectProblem, startStack, type Stack } from './stack.ts';

/** API4:2023 Unrestricted Resource Consumption — rate budgets that more credentials cannot multiply. */

const json = (token: string, body: unknown, method = 'POST') => ({
  method,
  headers: bearer(token, true),
  body: JSON.stringify(body),
});

describe('rate budgets belong to the user', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      RATE_LIMIT_DEFAULT: '12',
      RATE_LIMIT_EXPENSIVE: '5',
      API_KEYS_PER_USER_MAX: '3',
    });
  });
  afterAll(() => stack?.close());

  async function newKey(token: string): Promise<Response> {
    return fetch(`${stack.url}/api/v1/auth/api-keys`, json(token, { name: `key-${Math.random()}` }));
  }

  it('caps the API keys a user may hold, naming the cap, and writes no key past it', async () => {
    const { token } = await stack.signedIn('editor');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const created = await newKey(token);
      expect(created.status).toBe(201);
      ids.push(((await created.json()) as { id: string }).id);
    }
    const refused = await expectProblem(await newKey(token), 409);
    expect(refused.detail).toContain('API_KEYS_PER_USER_MAX=3');
    expect(refused.limit).toBe(3);
    const listed = await fetch(`${stack.url}/api/v1/auth/api-keys`, { headers: bearer(token) });
    expect(((await listed.json()) as { api_keys: unknown[] }).api_keys).toHaveLength(3);

    // A revoked key no longer counts.
    const revoked = await fetch(`${stack.url}/api/v1/auth/api-keys/${ids[0]}`, {
      method: 'DELETE',
      headers: bearer(token),
    });
    expect(revoked.status).toBe(200);
    expect((await newKey(token)).status).toBe(201);
  });

  it('holds the cap against parallel creations', async () => {
    const { token } = await stack.signedIn('editor');
    const answers = await Promise.all(Array.from({ length: 8 }, () => newKey(token)));
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(3);
    expect(answers.filter((answer) => answer.status === 409)).toHaveLength(5);
  });

  it('counts every API key of a user and their token on one budget', async () => {
    const { token } = await stack.signedIn('editor');
    const keys: string[] = [];
    for (let i = 0; i < 3; i++) keys.push(((await (await newKey(token)).json()) as { key: string }).key);
    // 3 key creations + 12 reads = the user's budget of 12 is spent well before the end.
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const credential = i % 4 === 3 ? token : keys[i % 4]!;
      statuses.push((await fetch(`${stack.url}/api/v1/auth/me`, { headers: bearer(credential) })).status);
    }
    expect(statuses.filter((status) => status === 200)).toHaveLength(12 - 3);
    const refused = await expectProblem(
      await fetch(`${stack.url}/api/v1/auth/me`, { headers: { 'x-api-key': keys[2]! } }),
      429,
    );
    expect(refused.budget).toBe('default');
    expect(refused.detail).toContain('allows 12 calls');
  });

  describe('job submissions', () => {
    const jobs = (n: number) => ({ jobs: Array.from({ length: n }, () => ({ type: 'noop' })) });
    const total = async (token: string) =>
      (
        (await (
          await fetch(`${stack.url}/api/v1/compute/jobs?limit=1`, { headers: bearer(token) })
        ).json()) as {
          total: number;
        }
      ).total;

    it('charge each job of a batch as one expensive call', async () => {
      const { token } = await stack.signedIn('editor');
      const batch = await fetch(`${stack.url}/api/v1/compute/jobs/batch`, json(token, jobs(5)));
      expect(batch.status).toBe(201);
      expect(batch.headers.get('ratelimit-remaining')).toBe('0');
      const next = await expectProblem(
        await fetch(`${stack.url}/api/v1/compute/jobs`, json(token, { type: 'noop' })),
        429,
      );
      expect(next.budget).toBe('expensive');
      expect(await total(token)).toBe(5);
    });

    it('refuse a batch larger than the whole budget, naming it, and queue none of it', async () => {
      const { token } = await stack.signedIn('editor');
      const refused = await expectProblem(
        await fetch(`${stack.url}/api/v1/compute/jobs/batch`, json(token, jobs(6))),
        400,
      );
      expect(refused.detail).toContain('6 jobs');
      expect(refused.limit).toBe(5);
      expect(await total(token)).toBe(0);
    });

    it('share the budget across the API keys of one user', async () => {
      const { token } = await stack.signedIn('editor');
      const keys: string[] = [];
      for (let i = 0; i < 2; i++) keys.push(((await (await newKey(token)).json()) as { key: string }).key);
      expect((await fetch(`${stack.url}/api/v1/compute/jobs/batch`, json(keys[0]!, jobs(3)))).status).toBe(
        201,
      );
      expect((await fetch(`${stack.url}/api/v1/compute/jobs/batch`, json(keys[1]!, jobs(2)))).status).toBe(
        201,
      );
      await expectProblem(await fetch(`${stack.url}/api/v1/compute/jobs/batch`, json(token, jobs(1))), 429);
      expect(await total(token)).toBe(5);
    });
  });
});

/** A redis-server of the test's own, on its own port, that the test can stop. */
async function startRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `redis://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    const ready = await new Promise<boolean>((resolve) => {
      const probe = spawn('redis-cli', ['-p', String(port), 'ping'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      probe.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      probe.once('exit', () => resolve(out.trim() === 'PONG'));
    });
    if (ready) break;
    if (attempt > 100) throw new Error(`redis-server on ${port} did not start`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

describe('when the rate-limit store (Redis) is down', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let stack: Stack;

  beforeAll(async () => {
    redis = await startRedis();
    stack = await startStack({ REDIS_URL: redis.url });
  });
  afterAll(async () => {
    await stack?.close();
    await redis?.stop();
  });

  it('refuses sign-ins, refreshes and password changes with 503 and Retry-After, and lets other calls through', async () => {
    const user = await stack.createUser('editor');
    const signIn = () =>
      fetch(`${stack.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: user.email, password: user.password }),
      });
    const session = (await (await signIn()).json()) as { access_token: string; refresh_token: string };

    await redis.stop();
    const checks = [
      await signIn(),
      await fetch(`${stack.url}/api/v1/auth/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: session.refresh_token }),
      }),
      await fetch(
        `${stack.url}/api/v1/auth/password`,
        json(session.access_token, { current_password: 'a guess at it', new_password: 'whatever it may be' }),
      ),
    ];
    for (const answer of checks) {
      const retryAfter = answer.headers.get('retry-after');
      const problem = await expectProblem(answer, 503);
      expect(Number(retryAfter)).toBeGreaterThan(0);
      expect(problem.detail).toContain('cannot be counted');
    }
    // Ordinary calls stay open (RATE_LIMIT_FAIL_OPEN defaults to true): the outage does not lock everyone out.
    const me = await fetch(`${stack.url}/api/v1/auth/me`, { headers: bearer(session.access_token) });
    expect(me.status).toBe(200);
    stack.assertAlive();
  });
});
