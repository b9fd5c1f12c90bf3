import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestUser } from '../gateway.ts';
import { bearer, expectProblem, startStack, type Stack } from './stack.ts';

/** API2:2023 Broken Authentication — guessing, locked and disabled accounts, sessions that must end. */

const THRESHOLD = 5;

describe('authentication at the gateway', () => {
  let stack: Stack;
  let adminToken: string;

  beforeAll(async () => {
    stack = await startStack({
      LOGIN_LOCKOUT_THRESHOLD: String(THRESHOLD),
      // Every call here comes from one address: the per-address budget is not what is under test.
      RATE_LIMIT_LOGIN: '10000',
    });
    adminToken = (await stack.signedIn('admin')).token;
  });
  afterAll(() => stack?.close());

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${stack.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const login = (user: Pick<TestUser, 'email'>, password: string) =>
    post('/api/v1/auth/login', { email: user.email, password });
  const me = (headers: Record<string, string>) => fetch(`${stack.url}/api/v1/auth/me`, { headers });
  const changeUser = (id: string, body: unknown) =>
    fetch(`${stack.url}/api/v1/admin/users/${id}`, {
      method: 'PATCH',
      headers: bearer(adminToken, true),
      body: JSON.stringify(body),
    });
  const newKey = async (token: string, name = 'suite'): Promise<string> => {
    const created = await post('/api/v1/auth/api-keys', { name }, bearer(token));
    expect(created.status).toBe(201);
    return ((await created.json()) as { key: string }).key;
  };

  it('counts every one of many parallel wrong guesses: no more than the threshold are checked, and the lock holds', async () => {
    const user = await stack.createUser('editor');
    const started = new Date(Date.now() - 1000).toISOString();
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => login(user, `wrong guess number ${i}`)),
    );
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 401).length).toBeLessThan(THRESHOLD);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThan(30 - THRESHOLD);
    const locked = await expectProblem(await login(user, user.password), 429);
    expect(locked.detail).toContain(`Too many wrong passwords in a row (${THRESHOLD})`);
    // Each password actually checked leaves a login.failed row: no more than the threshold were.
    const audit = await fetch(
      `${stack.url}/api/v1/admin/audit?kind=security&action=login.failed&from=${started}&limit=500`,
      { headers: bearer(adminToken) },
    );
    const { events } = (await audit.json()) as { events: { resource_id: string | null }[] };
    expect(events.filter((event) => event.resource_id === user.id).length).toBeLessThanOrEqual(THRESHOLD);
  });

  it('answers a disabled account the same whether the password is right or wrong', async () => {
    const user = await stack.createUser('editor');
    expect((await changeUser(user.id, { disabled: true })).status).toBe(200);
    const right = await expectProblem(await login(user, user.password), 401);
    const wrong = await expectProblem(await login(user, 'certainly not the password'), 401);
    const shown = ({ type, title, status, detail }: typeof right) => ({ type, title, status, detail });
    expect(shown(right)).toEqual(shown(wrong));
    expect(right.detail).toBe('Email or password is wrong');
  });

  it('refuses a password change made with an API key, and the password stays', async () => {
    const { user, token } = await stack.signedIn('editor');
    const key = await newKey(token);
    const refused = await expectProblem(
      await post(
        '/api/v1/auth/password',
        { current_password: user.password, new_password: 'taken over with a key' },
        { 'x-api-key': key },
      ),
      403,
    );
    expect(refused.detail).toContain('not with an API key');
    expect((await login(user, user.password)).status).toBe(200);
  });

  it('counts wrong current passwords at a password change like failed logins, and locks the account', async () => {
    const { user, token } = await stack.signedIn('editor');
    const guess = (i: number) =>
      post(
        '/api/v1/auth/password',
        { current_password: `guess ${i} at the password`, new_password: 'a new password of mine' },
        bearer(token),
      );
    for (let i = 1; i < THRESHOLD; i++) {
      const wrong = await expectProblem(await guess(i), 400);
      expect(wrong.errors).toEqual([{ field: '/body/current_password', message: 'is wrong' }]);
    }
    const lockedAnswer = await guess(THRESHOLD);
    expect(Number(lockedAnswer.headers.get('retry-after'))).toBeGreaterThan(0);
    await expectProblem(lockedAnswer, 429);
    // Locked for the right password too, at the password change and at login.
    await expectProblem(
      await post(
        '/api/v1/auth/password',
        { current_password: user.password, new_password: 'a new password of mine' },
        bearer(token),
      ),
      429,
    );
    await expectProblem(await login(user, user.password), 429);
  });

  it('ends every session and access token of a user at once when the password changes', async () => {
    const user = await stack.createUser('editor');
    const first = (await (await login(user, user.password)).json()) as {
      access_token: string;
      refresh_token: string;
    };
    const second = (await (await login(user, user.password)).json()) as { access_token: string };
    expect((await me(bearer(second.access_token))).status).toBe(200);

    const changed = await post(
      '/api/v1/auth/password',
      { current_password: user.password, new_password: 'the next password of mine' },
      bearer(first.access_token),
    );
    expect(changed.status).toBe(204);

    for (const token of [first.access_token, second.access_token]) {
      const refused = await expectProblem(await me(bearer(token)), 401);
      expect(refused.detail).toContain('session has ended');
    }
    await expectProblem(await post('/api/v1/auth/refresh', { refresh_token: first.refresh_token }), 401);
    await expectProblem(await login(user, user.password), 401);
    const fresh = await login(user, 'the next password of mine');
    expect(fresh.status).toBe(200);
    const token = ((await fresh.json()) as { access_token: string }).access_token;
    expect((await me(bearer(token))).status).toBe(200);
  });

  it('stops the API keys of a disabled user at once, and they work again when enabled', async () => {
    const { user, token } = await stack.signedIn('editor');
    const key = await newKey(token);
    expect((await me({ 'x-api-key': key })).status).toBe(200);
    expect((await changeUser(user.id, { disabled: true })).status).toBe(200);
    const refused = await expectProblem(await me({ 'x-api-key': key }), 401);
    expect(refused.detail).toBe('This account is disabled or gone');
    expect((await changeUser(user.id, { disabled: false })).status).toBe(200);
    expect((await me({ 'x-api-key': key })).status).toBe(200);
  });

  it('lowers the role of a demoted user’s API keys at once', async () => {
    const { user, token } = await stack.signedIn('admin');
    const key = await newKey(token);
    const users = () => fetch(`${stack.url}/api/v1/admin/users?limit=1`, { headers: { 'x-api-key': key } });
    expect((await users()).status).toBe(200);
    expect((await changeUser(user.id, { role: 'viewer' })).status).toBe(200);
    await expectProblem(await users(), 403);
    expect(((await (await me({ 'x-api-key': key })).json()) as { role: string }).role).toBe('viewer');
    // And a viewer may not create anything with it.
    await expectProblem(await post('/api/v1/compute/jobs', { type: 'noop' }, { 'x-api-key': key }), 403);
  });
});
