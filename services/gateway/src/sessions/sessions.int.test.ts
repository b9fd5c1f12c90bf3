import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestGateway, type TestGateway } from '../../../../test/gateway.ts';

describe('sessions: login, refresh, logout, password', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      LOGIN_LOCKOUT_THRESHOLD: '4',
      LOGIN_LOCKOUT_MINUTES: '1',
      // Every test here signs in from the same address; the per-address budget is not under test.
      RATE_LIMIT_LOGIN: '1000',
    });
  });
  afterAll(() => gw.close());

  const login = (email: string, password: string) =>
    call(`${gw.url}/api/v1/auth/login`, { method: 'POST', body: { email, password } });
  const refresh = (token: unknown) =>
    call(`${gw.url}/api/v1/auth/refresh`, { method: 'POST', body: { refresh_token: token } });

  it('logs in with email (any case) and password, and knows who I am', async () => {
    const user = await gw.createUser('editor');
    const answer = await login(user.email.toUpperCase(), user.password);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
    const me = await call(`${gw.url}/api/v1/auth/me`, { token: answer.body.access_token as string });
    expect(me.body).toMatchObject({ id: user.id, email: user.email, role: 'editor', via: 'user' });
  });

  it('answers a wrong password and an unknown email alike', async () => {
    const user = await gw.createUser('viewer');
    const wrong = await login(user.email, 'not the password at all');
    const unknown = await login('nobody-here@example.test', 'not the password at all');
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    expect(wrong.body.detail).toBe(unknown.body.detail);
  });

  it('refuses bad input naming the field', async () => {
    const answer = await call(`${gw.url}/api/v1/auth/login`, {
      method: 'POST',
      body: { email: 'not-an-email' },
    });
    expect(answer.status).toBe(400);
    const fields = (answer.body.errors as { field: string }[]).map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['/body/email', '/body/password']));
  });

  it('slows down repeated failures, then locks the account even for the right password', async () => {
    const user = await gw.createUser('editor');
    const started = Date.now();
    for (let i = 0; i < 3; i++) expect((await login(user.email, 'wrong password, again')).status).toBe(401);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);

    const locked = await login(user.email, 'wrong password, again');
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await login(user.email, user.password)).status).toBe(429);
  });

  it('rotates refresh tokens, and a reused one revokes the whole family', async () => {
    const user = await gw.createUser('editor');
    const first = (await login(user.email, user.password)).body;
    const second = await refresh(first.refresh_token);
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(first.refresh_token);

    const replay = await refresh(first.refresh_token);
    expect(replay.status).toBe(401);
    expect(replay.body.detail).toMatch(/already used/);
    expect((await refresh(second.body.refresh_token)).status).toBe(401);

    const otherLogin = (await login(user.email, user.password)).body;
    expect((await refresh(otherLogin.refresh_token)).status).toBe(200);
  });

  it('ends a session on logout', async () => {
    const user = await gw.createUser('viewer');
    const tokens = (await login(user.email, user.password)).body;
    expect(
      (
        await call(`${gw.url}/api/v1/auth/logout`, {
          method: 'POST',
          body: { refresh_token: tokens.refresh_token },
        })
      ).status,
    ).toBe(204);
    expect((await refresh(tokens.refresh_token)).status).toBe(401);
  });

  it('changes the password: the current one is checked, and every session and access token ends', async () => {
    const user = await gw.createUser('editor');
    const session = (await login(user.email, user.password)).body;
    const token = session.access_token as string;
    const path = `${gw.url}/api/v1/auth/password`;

    const wrong = await call(path, {
      method: 'POST',
      token,
      body: { current_password: 'nope nope nope', new_password: 'a brand new password' },
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors).toEqual([{ field: '/body/current_password', message: 'is wrong' }]);
    const weak = await call(path, {
      method: 'POST',
      token,
      body: { current_password: user.password, new_password: 'short' },
    });
    expect(weak.status).toBe(400);

    const changed = await call(path, {
      method: 'POST',
      token,
      body: { current_password: user.password, new_password: 'a brand new password' },
    });
    expect(changed.status).toBe(204);
    expect((await refresh(session.refresh_token)).status).toBe(401);
    const old = await call(`${gw.url}/api/v1/auth/me`, { token });
    expect(old.status).toBe(401);
    expect(old.body.detail).toBe('This session has ended (password changed): log in again');
    const fresh = await login(user.email, 'a brand new password');
    expect(fresh.status).toBe(200);
    const me = await call(`${gw.url}/api/v1/auth/me`, { token: fresh.body.access_token as string });
    expect(me.status).toBe(200);
  });
});
