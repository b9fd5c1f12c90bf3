import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestGateway, type TestGateway } from '../../../../test/gateway.ts';

describe('admin: users and roles', () => {
  let gw: TestGateway;
  let adminToken: string;
  beforeAll(async () => {
    gw = await startTestGateway();
    adminToken = await gw.login(await gw.createUser('admin'));
  });
  afterAll(() => gw.close());

  const users = `/api/v1/admin/users`;

  it('lets an admin create a user, who can then log in with that role', async () => {
    const email = `new-${Date.now()}@example.test`;
    const created = await call(`${gw.url}${users}`, {
      method: 'POST',
      token: adminToken,
      body: { email, password: 'long enough password', role: 'viewer' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ email, role: 'viewer', disabled: false });
    expect(created.body).not.toHaveProperty('password_hash');
    expect(
      (
        await call(`${gw.url}/api/v1/auth/login`, {
          method: 'POST',
          body: { email, password: 'long enough password' },
        })
      ).status,
    ).toBe(200);

    const again = await call(`${gw.url}${users}`, {
      method: 'POST',
      token: adminToken,
      body: { email, password: 'long enough password', role: 'viewer' },
    });
    expect(again.status).toBe(409);
  });

  it('lists users with paging', async () => {
    const page = await call(`${gw.url}${users}?limit=1`, { token: adminToken });
    expect(page.status).toBe(200);
    expect((page.body.users as unknown[]).length).toBe(1);
    expect(page.body.total).toBeGreaterThanOrEqual(2);
  });

  it('refuses the admin endpoints to editors and viewers (403) and to anonymous callers (401)', async () => {
    const editor = await gw.login(await gw.createUser('editor'));
    expect((await call(`${gw.url}${users}`, { token: editor })).status).toBe(403);
    expect((await call(`${gw.url}${users}`)).status).toBe(401);
  });

  it('lowers a role and it takes effect on the next call, without a new login', async () => {
    const user = await gw.createUser('editor');
    const token = await gw.login(user);
    const changed = await call(`${gw.url}${users}/${user.id}`, {
      method: 'PATCH',
      token: adminToken,
      body: { role: 'viewer' },
    });
    expect(changed.body.role).toBe('viewer');
    const me = await call(`${gw.url}/api/v1/auth/me`, { token });
    expect(me.body.role).toBe('viewer');
  });

  it('disables a user: their tokens stop working at once and they cannot log in, right password or not', async () => {
    const user = await gw.createUser('editor');
    const token = await gw.login(user);
    expect(
      (
        await call(`${gw.url}${users}/${user.id}`, {
          method: 'PATCH',
          token: adminToken,
          body: { disabled: true },
        })
      ).status,
    ).toBe(200);
    expect((await call(`${gw.url}/api/v1/auth/me`, { token })).status).toBe(401);
    const login = await call(`${gw.url}/api/v1/auth/login`, {
      method: 'POST',
      body: { email: user.email, password: user.password },
    });
    expect(login.status).toBe(401);
    expect(login.body.detail).toBe('Email or password is wrong');
  });

  it('does not let an admin demote or disable themselves', async () => {
    const me = await call(`${gw.url}/api/v1/auth/me`, { token: adminToken });
    const answer = await call(`${gw.url}${users}/${String(me.body.id)}`, {
      method: 'PATCH',
      token: adminToken,
      body: { disabled: true },
    });
    expect(answer.status).toBe(409);
  });
});
